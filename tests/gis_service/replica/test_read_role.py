"""Reads that may lag come from the replica; the one who has just written is not shown the
past: a replica held back serves everyone else, the writer is served by the primary until
the replica has replayed the write (the WAL position of the write, checked on the connection
that serves the read)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from starlette.requests import Request

from gis_service.context import app_context
from gis_service.database import LSN_COOKIE, LSN_HEADER, read_session
from gis_service.main import create_app
from gis_service.tiles.tiling import tile_of
from tests.gis_service.replica.conftest import Pair, settings
from tests.gis_service.replica.conftest import _free_port as free_port

IN_T_A_1: dict[str, Any] = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}


def report(client: TestClient, pair: Pair) -> Any:
    response = client.post("/api/v1/incidents", headers=pair.auth, json={
        "source": "grid_patrol", "category": "GARBAGE", "location": IN_T_A_1})
    assert response.status_code == 201, response.text
    return response


def on_wall(client: TestClient, pair: Pair, **headers: str) -> set[int]:
    response = client.get("/api/v1/wall/feed", headers={**pair.auth, **headers})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["incidents"]}


def in_ogc(client: TestClient, pair: Pair, **headers: str) -> set[int]:
    response = client.get("/ogc/collections/incidents/items", params={"limit": 1000},
                          headers={**pair.auth, **headers})
    assert response.status_code == 200, response.text
    return {int(feature["id"]) for feature in response.json()["features"]}


def incident_tile(client: TestClient, pair: Pair, **headers: str) -> bytes:
    x, y = tile_of(IN_T_A_1["lon"], IN_T_A_1["lat"], 15)
    response = client.get(f"/tiles/incidents/15/{x}/{y}.pbf", headers={**pair.auth, **headers})
    assert response.status_code in (200, 204), response.text
    return response.content


def test_reads_come_from_the_replica_and_the_writer_sees_their_write(
        pair: Pair, client: TestClient) -> None:
    with pair.replay_paused():
        made = report(client, pair)
        incident = made.json()["id"]
        lsn = made.headers[LSN_HEADER]
        assert client.cookies.get(LSN_COOKIE) == lsn
        client.cookies.clear()
        # anyone else reads the held-back replica: the report is not there yet
        assert incident not in on_wall(client, pair)
        assert incident not in in_ogc(client, pair)
        before = incident_tile(client, pair)
        # the writer, sending the position back (an API client's header) …
        assert incident in on_wall(client, pair, **{LSN_HEADER: lsn})
        assert incident in in_ogc(client, pair, **{LSN_HEADER: lsn})
        assert incident_tile(client, pair, **{LSN_HEADER: lsn}) != before
        # … or with the cookie (a browser) is served by the primary
        client.cookies.set(LSN_COOKIE, lsn)
        assert incident in on_wall(client, pair)
        client.cookies.clear()
    pair.caught_up()
    assert incident in on_wall(client, pair)


def test_the_position_is_checked_on_the_connection_that_serves_the_read(
        pair: Pair, client: TestClient) -> None:
    def sending(lsn: str) -> Request:
        return Request({"type": "http", "app": client.app, "method": "GET", "path": "/",
                        "query_string": b"",
                        "headers": [(LSN_HEADER.lower().encode(), lsn.encode())]})

    lsn = report(client, pair).headers[LSN_HEADER]
    pair.caught_up()
    with read_session(sending(lsn)) as session:  # replayed: the replica serves it
        assert session.scalar(text("SELECT pg_is_in_recovery()")) is True
    with pair.replay_paused():
        later = report(client, pair).headers[LSN_HEADER]
        with read_session(sending(later)) as session:  # not replayed in ~0.2 s: the primary
            assert session.scalar(text("SELECT pg_is_in_recovery()")) is False


def checks(statement: str) -> bool:
    return "pg_last_wal_replay_lsn" in statement


def test_a_read_without_a_position_costs_no_statement_more(
        pair: Pair, client: TestClient) -> None:
    factory = app_context(client.app).read_session_factory  # type: ignore[arg-type]
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client.cookies.clear()
        assert client.get("/api/v1/wall/heat", headers=pair.auth).status_code == 200
        assert statements and not any(checks(s) for s in statements)
        statements.clear()
        lsn = report(client, pair).headers[LSN_HEADER]
        client.cookies.clear()
        assert client.get("/api/v1/wall/heat",
                          headers={**pair.auth, LSN_HEADER: lsn}).status_code == 200
        assert checks(statements[0])  # first, on the connection that then serves the read
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_without_a_read_database_nothing_is_added(pair: Pair) -> None:
    app = create_app(settings(pair.primary_url))
    with TestClient(app) as client:
        context = app_context(app)
        assert context.read_session_factory is context.session_factory
        made = report(client, pair)
        assert LSN_HEADER not in made.headers and LSN_COOKIE not in client.cookies
        feed = client.get("/api/v1/wall/feed", headers=pair.auth).json()
        assert feed["lsn"] is None


def test_while_there_is_no_primary_the_replica_answers_anyway(pair: Pair,
                                                              client: TestClient) -> None:
    """A fail-over under way: the replica has not replayed the caller's write and there is no
    primary to fall back on; a wall a moment behind beats a 503."""
    live = app_context(client.app)
    url = make_url(pair.primary_url)
    gone = create_engine(url.set(query={**url.query, "port": str(free_port())}))
    try:
        stub = SimpleNamespace(state=SimpleNamespace(context=replace(
            live, session_factory=sessionmaker(bind=gone))))
        with pair.replay_paused():
            lsn = report(client, pair).headers[LSN_HEADER]
            request = Request({"type": "http", "app": stub, "method": "GET", "path": "/",
                               "query_string": b"",
                               "headers": [(LSN_HEADER.lower().encode(), lsn.encode())]})
            with read_session(request) as session:
                assert session.scalar(text("SELECT pg_is_in_recovery()")) is True
    finally:
        gone.dispose()
