"""Fixtures for the security tables: one test town per module, with incidents in several areas,
photos, patrol tracks and an account for every role × scope, on a transaction rolled back at
the module's end. Each probe that writes runs in a savepoint of its own, rolled back after it,
so one row of a table never changes what the next row sees."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from gis_service.auth import service as auth_service
from gis_service.auth.models import Account
from gis_service.config import Settings
from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident
from gis_service.main import create_app
from gis_service.people.models import Department, Worker
from tests.gis_service.cameras.conftest import CAMERAS, write_cameras
from tests.gis_service.people.conftest import TEAM, write_team
from tests.town import write_town

IMPORT_KINDS = ("grids", "districts", "zones", "projects", "stations", "departments", "workers",
                "responsibilities", "zone_rules")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass(frozen=True)
class Prober:
    """A probing account: a label for the tables, its role and scope, its headers."""

    label: str
    role: str | None  # None: no token at all
    scope: str | None
    headers: dict[str, str]
    in_scope: bool  # scoped to the test town's areas (False: another town, an unknown area)
    username: str = ""


# every role × (in-scope, out-of-scope); `None` role = anonymous
ACCOUNTS: tuple[tuple[str, str | None, str | None, bool], ...] = (
    ("admin", "admin", None, True),
    ("commander", "commander", None, True),
    ("planner", "planner", None, True),
    ("dispatcher T", "dispatcher", "T", True),
    ("dispatcher X (other town)", "dispatcher", "X", False),
    ("grid_worker T-A-1", "grid_worker", "T-A-1", True),
    ("grid_worker T-B-2", "grid_worker", "T-B-2", True),
    ("grid_worker T-A (level 2)", "grid_worker", "T-A", True),
    ("grid_worker (no scope)", "grid_worker", None, False),
    ("grid_worker X-9 (unknown)", "grid_worker", "X-9", False),
    ("squad D1", "squad", "D1", True),
    ("squad D2", "squad", "D2", True),
    ("squad DX (unknown)", "squad", "DX", False),
    ("department HB", "department", "HB", True),
    ("department JS", "department", "JS", True),
    ("department ZZ (unknown)", "department", "ZZ", False),
    ("team GT-P1", "team", "GT-P1", True),  # T-A-1's community officer (1+1+N)
    ("team GT-X (unknown)", "team", "GT-X", False),
    ("no token", None, None, False),
)
# which walker account stands for which worker (patrol tracks carry the worker)
WORKER_OF = {"grid_worker T-A-1": "W1", "grid_worker T-B-2": "W4"}

# the objects: incidents in several areas, assigned to different kinds of handler
INCIDENTS: dict[str, dict[str, Any]] = {
    "garbage T-A-1": {"source": "grid_patrol", "category": "GARBAGE", "external_id": "sec-1",
                      "location": {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}},
    "building T-B-2": {"source": "hotline_12345", "category": "BUILDING",
                       "external_id": "sec-2",
                       "location": {"lon": 120.418, "lat": 30.918, "crs": "wgs84"}},
    "pollution T-B-1": {"source": "hotline_12345", "category": "POLLUTION",
                        "external_id": "sec-3",
                        "location": {"lon": 120.418, "lat": 30.902, "crs": "wgs84"}},
    "flood T-A-2": {"source": "video", "category": "FLOOD", "external_id": "sec-4",
                    "location": {"lon": 120.402, "lat": 30.918, "crs": "wgs84"}},
    "needs_location": {"source": "hotline_12345", "category": "GARBAGE", "external_id": "sec-5",
                       "address": "无此地址村999号"},
}
# the cameras the incidents came from (tests/gis_service/cameras/conftest.py: the west
# village's road camera, the east village's square camera)
CAMERA_OF = {"garbage T-A-1": CAMERAS[0][0], "flood T-A-2": CAMERAS[0][0],
             "building T-B-2": CAMERAS[1][0]}
WALKS = {  # a track per walker, inside their own grid
    "grid_worker T-A-1": [[120.401, 30.905], [120.405, 30.905], [120.409, 30.905]],
    "grid_worker T-B-2": [[120.412, 30.915], [120.415, 30.915], [120.419, 30.915]],
    "squad D1": [[120.401, 30.901], [120.419, 30.901]],
}


def marker(number: int) -> str:
    """The description of the test incident `number`: a string no page has by chance."""
    return f"SECMARK{number}QZ"


@dataclass
class World:
    """The module's app, client, connection, accounts and objects."""

    app: FastAPI
    client: TestClient
    connection: Connection
    factory: sessionmaker[Session]
    accounts: dict[str, Prober]
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> admin's view
    photos: dict[str, int] = field(default_factory=dict)  # incident label -> photo id
    tracks: dict[str, int] = field(default_factory=dict)  # account label -> track id
    town_files: dict[str, Path] = field(default_factory=dict)
    plan_id: int | None = None  # a draft boundary plan, when the app has the plan API

    @contextmanager
    def rolled_back(self) -> Iterator[None]:
        """Whatever the block's requests commit is undone when it ends."""
        savepoint = self.connection.begin_nested()
        try:
            yield
        finally:
            savepoint.rollback()

    def plan_version(self) -> int:
        response = self.client.get(f"/api/v1/plans/{self.plan_id}", headers=self.admin())
        assert response.status_code == 200, response.text
        return int(response.json()["version"])

    def plan_grid(self) -> dict[str, Any]:
        """T-A-1 as a plan's PUT takes it."""
        grids = json.loads(self.town_files["grids"].read_bytes())
        a1 = next(f for f in grids["features"] if f["properties"]["code"] == "T-A-1")
        return {"type": "Feature", "geometry": a1["geometry"], "properties": {
            "code": "T-A-1", "name": "西村一组", "level": 3, "kind": "comprehensive",
            "parent_code": "T-A"}}

    def username(self, label: str) -> str:
        return self.accounts[label].username

    def admin(self) -> dict[str, str]:
        return self.accounts["admin"].headers

    def incident(self, label: str) -> dict[str, Any]:
        """The incident as it stands now (admin's view)."""
        found = self.incidents[label]
        response = self.client.get(f"/api/v1/incidents/{found['id']}", headers=self.admin())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def security_settings() -> Settings:
    """The service's settings for probing: no background loops; no request-rate limit (the
    tables send many requests per account; the limit has its own tests)."""
    return Settings(database_url="postgresql+psycopg://unused/unused",
                    locator_refresh_seconds=0, escalation_interval_seconds=0,
                    webhook_poll_seconds=0,
                    tile_fold_seconds=0, rate_limit_per_second=0,
                    webhook_allowed_hosts="hooks.example.gov.cn")


def _accounts(session: Session) -> dict[str, Prober]:
    made: dict[str, Prober] = {}
    for label, role, scope, in_scope in ACCOUNTS:
        headers: dict[str, str] = {}
        name = "sec-" + re.sub(r"[^A-Za-z0-9-]+", "-", label).strip("-")
        if role is not None:
            auth_service.add_account(session, username=name, role=role, scope_code=scope,
                                     password="s3cret-pw-" + name)
            if label in WORKER_OF:
                session.execute(update(Account).where(Account.username == name)
                                .values(worker_code=WORKER_OF[label]))
            token = auth_service.issue_token(session, username=name)
            headers = {"Authorization": f"Bearer {token}"}
        made[label] = Prober(label, role, scope, headers, in_scope, name)
    session.commit()
    return made


def _populate(world: World) -> None:
    client, admin = world.client, world.admin()
    for number, (label, body) in enumerate(INCIDENTS.items()):
        marked = {**body, "description": marker(number)}  # findable in any page or file
        response = client.post("/api/v1/incidents", headers=admin, json=marked)
        assert response.status_code == 201, (label, response.text)
        world.incidents[label] = response.json()
    assert world.incidents["needs_location"]["status"] == "needs_location"
    for label, found in world.incidents.items():
        response = client.post(f"/api/v1/incidents/{found['id']}/photos", headers=admin,
                               files={"file": ("p.png", PNG, "image/png")})
        assert response.status_code == 201, response.text
        world.photos[label] = response.json()["id"]
    for label, walk in WALKS.items():
        response = client.post("/api/v1/patrols", headers=world.accounts[label].headers,
                               json={"crs": "wgs84", "points": walk})
        assert response.status_code == 201, response.text
        world.tracks[label] = response.json()["id"]
    with world.factory() as session:  # no intake names a camera yet: set as it will be
        for label, camera in CAMERA_OF.items():
            session.execute(update(Incident).where(Incident.id == world.incidents[label]["id"])
                            .values(camera_code=camera))
        session.commit()
    for label in world.incidents:
        world.incidents[label] = world.incident(label)
    if any(getattr(route, "path", "") == "/api/v1/plans" for route in world.app.routes) or \
            "/api/v1/plans" in world.app.openapi()["paths"]:
        response = client.post("/api/v1/plans", headers=admin, json={"name": "security"})
        assert response.status_code == 201, response.text
        world.plan_id = response.json()["id"]


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The test town with objects and accounts, shared by a module, rolled back after it."""
    with engine.connect() as connection:
        transaction = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        files = write_town(tmp_path_factory.mktemp("security-town"))
        with factory() as session:
            folder = files["grids"].parent
            files |= {"cameras": write_cameras(folder, CAMERAS),
                      "grid_team": write_team(folder, TEAM)}
            for kind in (*IMPORT_KINDS, "cameras", "grid_team"):
                report = run_import(session, kind, files[kind])
                assert report.accepted, report.lines()
            # a county department's officer stationed in the town, for the two-party assessment
            session.add(Department(code="CGA", name="区公安分局派出所", tier="county",
                                   town_code="T"))
            session.add(Worker(code="S1", name="钱警官", role="department_staff",
                               department_code="CGA"))
            session.commit()
            accounts = _accounts(session)
        app = create_app(security_settings(), session_factory=factory)
        with TestClient(app) as client:
            made = World(app, client, connection, factory, accounts, town_files=files)
            _populate(made)
            yield made
        transaction.rollback()

