"""The connection pool: a connection that died while idle is replaced before a request uses
it; one in steady use is not checked at all."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from gis_service import database
from gis_service.config import Settings


def _pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_connection_killed_while_idle_is_replaced(database_url: str, engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pooled = database.make_engine(Settings(database_url=database_url))
    try:
        first = _pid(pooled)
        assert _pid(pooled) == first  # reused, unchecked while in steady use
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(database, "IDLE_CHECK_SECONDS", 0.0)
        second = _pid(pooled)  # the check finds it dead; the pool connects anew
        assert second != first
    finally:
        pooled.dispose()


def test_a_connection_in_steady_use_is_not_checked_and_a_failure_renews_the_pool(
        database_url: str, engine: Engine) -> None:
    pooled = database.make_engine(Settings(database_url=database_url))
    try:
        first = _pid(pooled)
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        # used a moment ago: not checked, so its first statement meets the dead connection …
        with pytest.raises(OperationalError):
            _pid(pooled)
        # … and SQLAlchemy, seeing a disconnect, renews the pool: the next request works
        assert _pid(pooled) != first
    finally:
        pooled.dispose()
