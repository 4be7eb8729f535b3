"""The service's start and stop: the start-up heap is frozen out of the garbage collector's
sight while it serves, and given back when it stops; the intake's writer runs and stops."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.context import app_context
from gis_service.main import create_app


def test_start_up_heap_is_frozen_while_serving(session_factory: sessionmaker[Session]) -> None:
    settings = Settings(database_url="postgresql+psycopg://unused/unused", gc_freeze=True,
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 10_000
        assert app_context(app).intake_writer is not None
    assert gc.get_freeze_count() == 0


def test_group_commit_can_be_switched_off(session_factory: sessionmaker[Session]) -> None:
    settings = Settings(database_url="postgresql+psycopg://unused/unused", intake_batch_max=0,
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app):
        assert app_context(app).intake_writer is None
        assert gc.get_freeze_count() == 0  # the tests' setting: off
