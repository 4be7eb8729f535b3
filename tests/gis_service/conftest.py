"""Fixtures for service tests: the test town imported, an app on the test's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis_service.auth import service as auth_service
from gis_service.config import Settings
from gis_service.imports.service import run_import
from gis_service.main import create_app
from gis_service.people.models import Worker
from tests.town import write_town


@pytest.fixture()
def town_files(tmp_path: Path) -> dict[str, Path]:
    """The test town's files on disk."""
    return write_town(tmp_path)


@pytest.fixture()
def town(db_session: Session, town_files: dict[str, Path]) -> dict[str, Path]:
    """The test town imported into the test's transaction."""
    for kind in ("grids", "districts", "zones", "projects", "stations", "departments", "workers",
                 "responsibilities", "zone_rules"):
        report = run_import(db_session, kind, town_files[kind])
        assert report.accepted, report.lines()
    db_session.commit()
    return town_files


@pytest.fixture()
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The HTTP service on the test's transaction."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture()
def client_elsewhere(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The HTTP service deployed under another county (GIS_SERVICE_AREA_NAMES: 浙江省湖州市
    南浔区), on the test's transaction."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        service_area_names="浙江省,湖州市,南浔区")
    with TestClient(create_app(settings, session_factory=session_factory)) as test_client:
        yield test_client


@pytest.fixture()
def admin_token(db_session: Session) -> str:
    """A bearer token of an admin account."""
    auth_service.add_account(db_session, username="admin", role="admin", password="s3cret-pw")
    token = auth_service.issue_token(db_session, username="admin")
    db_session.commit()
    return token


@pytest.fixture()
def auth(admin_token: str) -> dict[str, str]:
    """Authorization header of the admin."""
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture()
def token_for(db_session: Session) -> Callable[[str, str | None], dict[str, str]]:
    """Make an account with a role and scope; returns its Authorization header. A grid
    worker's account is the post on duty in its grid, as the demo's is."""
    made: dict[tuple[str, str | None], dict[str, str]] = {}

    def make(role: str, scope: str | None = None) -> dict[str, str]:
        if (role, scope) not in made:
            name = f"{role}-{scope or 'all'}"
            account = auth_service.add_account(db_session, username=name, role=role,
                                               scope_code=scope)
            if role == "grid_worker":
                account.worker_code = db_session.scalar(
                    select(Worker.code).where(Worker.role == "grid_worker",
                                              Worker.grid_code == scope,
                                              Worker.on_duty.is_(True)).order_by(Worker.code))
            token = auth_service.issue_token(db_session, username=name)
            db_session.commit()
            made[(role, scope)] = {"Authorization": f"Bearer {token}"}
        return made[(role, scope)]

    return make
