"""A write that reaches a server that is not (or no longer) the primary — 25006, as on a leader
just demoted — renews the pool's connections and answers 503 with Retry-After, never 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InternalError

from gis_service import database
from gis_service.main import create_app
from tests.gis_service.replica.conftest import Pair, settings
from tests.gis_service.replica.test_read_role import IN_T_A_1, report


def _pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_write_refused_as_read_only_renews_the_pool(pair: Pair) -> None:
    engine = database.make_read_engine(settings(pair.primary_url, pair.replica_url))
    assert engine is not None
    try:
        first = _pid(engine)
        assert _pid(engine) == first  # a read role's connection to a standby is kept …
        with engine.connect() as connection, pytest.raises(InternalError) as refused:
            connection.execute(text("CREATE TEMPORARY TABLE t (x int)"))
        assert refused.value.orig.sqlstate == "25006"  # type: ignore[union-attr]
        assert refused.value.connection_invalidated
        assert _pid(engine) != first  # … until a write is refused there: connected anew
    finally:
        engine.dispose()


def test_the_primary_role_keeps_no_connection_to_a_standby(pair: Pair) -> None:
    engine = database.make_engine(settings(pair.replica_url))
    try:
        first = _pid(engine)
        assert _pid(engine) != first  # returned to the pool, it was dropped: no round trip
    finally:
        engine.dispose()
    engine = database.make_engine(settings(pair.primary_url))
    try:
        assert _pid(engine) == _pid(engine)  # on the primary it is kept
    finally:
        engine.dispose()


def test_writes_on_a_standby_answer_503_with_retry_after(pair: Pair,
                                                          client: TestClient) -> None:
    incident = report(client, pair).json()
    pair.caught_up()
    with TestClient(create_app(settings(pair.replica_url))) as demoted:
        # the intake (its statements on the driver connection, in the group-commit writer)
        made = demoted.post("/api/v1/incidents", headers=pair.auth, json={
            "source": "grid_patrol", "category": "GARBAGE", "location": IN_T_A_1})
        assert made.status_code == 503, made.text
        assert made.headers["Retry-After"] == "1"
        # an action, through the ORM in the request's transaction
        acted = demoted.post(f"/api/v1/incidents/{incident['id']}/actions",
                             headers={**pair.auth, "If-Match": f'"{incident["version"]}"'},
                             json={"action": "accept"})
        assert acted.status_code == 503, acted.text
        assert acted.headers["Retry-After"] == "1"
        assert acted.headers["content-type"] == "application/problem+json"
        # reads are served as ever
        assert demoted.get(f"/api/v1/incidents/{incident['id']}",
                           headers=pair.auth).status_code == 200
