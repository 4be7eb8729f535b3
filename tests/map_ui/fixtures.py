"""Fixtures for the pages: a few recent incidents, and the real service on a loopback port for
browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.main import create_app

ADMIN_PASSWORD = "s3cret-pw"  # the admin_token fixture's account
# (lon, lat, category, days ago, address): three in the last 30 days, one older
REPORTS = [
    (120.405, 30.905, "GARBAGE", 1, "西村一组 村口垃圾点"),
    (120.415, 30.905, "BUILDING", 3, "东村一组 河边"),
    (120.416, 30.916, "GARBAGE", 12, "东村二组 <b>桥头</b>"),
    (120.404, 30.915, "GARBAGE", 40, "西村二组 老街"),
]
RECENT = [r for r in REPORTS if r[3] <= 30]

Poster = Callable[[str, dict[str, Any]], Any]


def report_incidents(post: Poster) -> list[dict[str, Any]]:
    """Post REPORTS through the intake API; `post(path, json)` returns the response."""
    now = datetime.now(UTC)
    made = []
    for number, (lon, lat, category, days, address) in enumerate(REPORTS):
        response = post("/api/v1/incidents", {
            "source": "grid_patrol", "external_id": f"wall-{number}", "category": category,
            "location": {"lon": lon, "lat": lat, "crs": "cgcs2000"}, "address": address,
            "reported_at": (now - timedelta(days=days)).isoformat()})
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


@pytest.fixture()
def incidents(client: TestClient, town: dict[str, Any], auth: dict[str, str]) -> list[Any]:
    """REPORTS made in the test town through the API."""
    return report_incidents(lambda path, body: client.post(path, headers=auth, json=body))


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The ASGI app under uvicorn on a free loopback port, in a thread: its origin."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = _free_socket()
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        assert not thread.is_alive(), "the service did not stop"


class OneAtATime:
    """ASGI wrapper that serves one HTTP request at a time, its clean-up included.

    The service's sessions are savepoints on the test's single connection; a client that sends
    its next request as soon as it has the last response (GDAL paging) would otherwise open a
    session before the previous one has rolled back its savepoint."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = asyncio.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.lock:
            await self.app(scope, receive, send)


@pytest.fixture()
def live_server(session_factory: sessionmaker[Session]) -> Iterator[str]:
    """The real service on a free loopback port, on the test's transaction: its sessions join
    the test's connection, so it sees the test's data, one request at a time."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    with serving(OneAtATime(app)) as origin:
        yield origin
