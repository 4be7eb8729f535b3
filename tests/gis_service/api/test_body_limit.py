"""Request bodies over the cap are refused with 413 problem+json, whether their size is
declared or only shows while streaming; bodies under it pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.main import create_app


def _client(session_factory: sessionmaker[Session]) -> TestClient:
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        max_body_bytes=2_000)
    return TestClient(create_app(settings, session_factory=session_factory))


def test_declared_and_streamed_bodies_over_the_cap_get_413(
        session_factory: sessionmaker[Session], town: dict[str, Path],
        auth: dict[str, str]) -> None:
    big = {"crs": "wgs84", "points": [[120.402, 30.902]] * 200}  # ~3.4 KB
    with _client(session_factory) as client:
        small = client.post("/api/v1/locate", headers=auth,
                            json={"crs": "wgs84", "points": [[120.402, 30.902]]})
        declared = client.post("/api/v1/locate", headers=auth, json=big)

        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                yield b" " * 500

        streamed = client.post("/api/v1/locate", headers={**auth,
                                                           "Content-Type": "application/json"},
                               content=chunks())
    assert small.status_code == 200
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert "2,000 bytes" in response.json()["detail"]
