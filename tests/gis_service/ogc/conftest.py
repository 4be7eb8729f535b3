"""The OGC tests use the recent incidents of the page tests and the real service on a loopback
port, taking one request at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.main import create_app
from tests.map_ui.fixtures import incidents, serving  # noqa: F401


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
    """The real service on a free loopback port, on the test's transaction."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    with serving(OneAtATime(app)) as origin:  # type: ignore[arg-type]
        yield origin
