"""The service on the cluster through a leader change: reports keep coming in while the
leader's Patroni is stopped; every acknowledged report is stored once (clients retry with the
same Idempotency-Key), no request gets a 500, writes are back within Patroni's TTL, and the
history chains verify. Then a point-in-time restore brings back exactly the incidents that
existed at the chosen moment. (The longer fault runs — PostgreSQL killed, a leader cut off
the network — are in bench/bench_failover.py.)"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.cluster import backups, control, daemons
from gis_service.cluster.layout import Layout
from gis_service.config import Settings
from gis_service.imports.service import run_import
from gis_service.incidents.audit import verify_all
from gis_service.main import create_app
from tests.map_ui.fixtures import serving
from tests.town import write_town

pytestmark = pytest.mark.timeout(600)


def _prepare(url: str, folder: Path) -> str:
    """The small test town on the cluster; a dispatcher's token."""
    files = write_town(folder)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            for kind in ("grids", "districts", "departments", "workers", "responsibilities"):
                assert run_import(session, kind, files[kind]).accepted
            auth_service.add_account(session, username="dispatcher", role="dispatcher")
            token = auth_service.issue_token(session, username="dispatcher")
            session.commit()
    finally:
        engine.dispose()
    return token


class Reporter(threading.Thread):
    """Posts reports one after another; each is retried with the same Idempotency-Key and
    external id until it is acknowledged, as a 12345 gateway would."""

    def __init__(self, origin: str, token: str, tag: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=origin, timeout=60,
                                   headers={"Authorization": f"Bearer {token}"})
        self.tag = tag
        self.stop = threading.Event()
        self.acknowledged: dict[str, int] = {}  # external id → incident id
        self.statuses: Counter[int] = Counter()
        self.failed_since: float | None = None
        self.longest_outage = 0.0

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            external_id = f"{self.tag}-{number}"
            key = str(uuid.uuid4())
            while True:
                try:
                    answer = self.client.post(
                        "/api/v1/incidents", headers={"Idempotency-Key": key},
                        json={"source": "hotline_12345", "external_id": external_id,
                              "category": "GARBAGE", "description": "路边垃圾",
                              "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}})
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0  # the service itself never goes away here; count it anyway
                self.statuses[status] += 1
                now = time.monotonic()
                if status in (200, 201):
                    self.acknowledged[external_id] = answer.json()["id"]
                    if self.failed_since is not None:
                        self.longest_outage = max(self.longest_outage, now - self.failed_since)
                        self.failed_since = None
                    break
                self.failed_since = self.failed_since or now
                retry = answer.headers.get("Retry-After") if status else None
                time.sleep(min(float(retry or 0.2), 1.0))

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=120)
        self.client.close()


class WallReader(threading.Thread):
    """A wall screen: the KPI panel every 0.2 s, from the read role (the replicas)."""

    def __init__(self, origin: str, token: str) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=origin, timeout=30,
                                   headers={"Authorization": f"Bearer {token}"})
        self.stop = threading.Event()
        self.statuses: Counter[int] = Counter()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = self.client.get("/api/v1/wall/kpi").status_code
            except httpx.HTTPError:
                status = 0
            self.statuses[status] += 1
            self.stop.wait(0.2)

    def finish(self) -> None:
        self.stop.set()
        self.join(timeout=60)
        self.client.close()


def _leader(layout: Layout, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = control.patroni_members(layout) or []
        leaders = [m for m in members if m.get("role") == "leader" and m.get("state") == "running"]
        syncs = [m for m in members if m.get("role") == "sync_standby"]
        if leaders and syncs:
            return str(leaders[0]["name"])
        time.sleep(0.5)
    raise AssertionError(f"no leader with a synchronous standby: {members}")


def _post(client: httpx.Client, external_id: str) -> int:
    answer = client.post("/api/v1/incidents", json={
        "source": "hotline_12345", "external_id": external_id, "category": "GARBAGE",
        "description": "路边垃圾", "location": {"lon": 120.415, "lat": 30.915, "crs": "cgcs2000"}})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _until(what: str, done: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"{what}: not after {seconds} s"
        time.sleep(0.2)


def _locator_and_folding_carry_on(client: httpx.Client, engine: Engine, folder: Path) -> None:
    """On the new leader: a change of who is on duty reaches the locator, and the tile
    aggregate folds in every report."""
    def worker() -> str | None:
        answer = client.get("/api/v1/locate", params={"lon": 120.415, "lat": 30.905})
        found = answer.json()["worker"]
        return found["code"] if found else None

    assert worker() != "W3"
    workers = folder / "workers.csv"
    workers.write_text(workers.read_text(encoding="utf-8").replace(
        "W3,王五,grid_worker,T-B-1,,,W4,no", "W3,王五,grid_worker,T-B-1,,,W4,yes"),
        encoding="utf-8")
    with Session(engine) as session:
        assert run_import(session, "workers", workers).accepted
        session.commit()
    _until("the locator sees the new duty", lambda: worker() == "W3")

    def folded() -> bool:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM incident_cell_delta")).scalar_one() == 0

    _until("the tile aggregate folds the reports in", folded)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_reports_ride_through_a_leader_change_and_a_restore_goes_back_to_a_moment(
        cluster: tuple[Path, Layout], tmp_path: Path) -> None:
    home, layout = cluster
    token = _prepare(layout.write_url(), tmp_path)
    # the locator's refresh and the tile folding run as in service, to see them carry on
    # across the change of leader
    settings = Settings(database_url=layout.write_url(), read_database_url=layout.read_url(),
                        home=home, locator_refresh_seconds=0.5,
                        escalation_interval_seconds=0, webhook_poll_seconds=0,
                        tile_fold_seconds=1, rate_limit_per_second=0)
    engine = create_engine(layout.write_url())
    with serving(create_app(settings)) as origin, httpx.Client(base_url=origin, timeout=60,
                         headers={"Authorization": f"Bearer {token}"}) as client:
        reporters = [Reporter(origin, token, f"r{i}") for i in range(3)]
        wall = WallReader(origin, token)
        for thread in (*reporters, wall):
            thread.start()
        time.sleep(3)
        old = _leader(layout)
        before = sum(len(r.acknowledged) for r in reporters)
        daemons.stop(layout, f"patroni-{old}", timeout=60)  # the leader's Patroni stopped
        new = _leader(layout)
        time.sleep(4)  # reports on the new leader
        for reporter in reporters:
            reporter.finish()
        wall.finish()

        assert new != old
        statuses = sum((r.statuses for r in reporters), Counter())
        assert statuses[500] == 0 and statuses[0] == 0, statuses
        # the wall reads from the replicas: a replica that is promoted has its sessions cut
        # (one 503 at most per connection); it never gets a 500
        assert wall.statuses[500] == wall.statuses[0] == 0, wall.statuses
        assert wall.statuses[200] > 10 * sum(n for s, n in wall.statuses.items() if s != 200)
        acknowledged = {eid: iid for r in reporters for eid, iid in r.acknowledged.items()}
        assert len(acknowledged) > before, "nothing was acknowledged after the leader change"
        outage = max(r.longest_outage for r in reporters)
        assert outage < 30, f"writes were back only after {outage:.1f} s"
        connection = engine.connect()  # after the change: the new leader
        stored = connection.execute(text(
            "SELECT external_id, id FROM incident WHERE source = 'hotline_12345'")).all()
        twice = [eid for eid, n in Counter(eid for eid, _ in stored).items() if n > 1]
        assert twice == [], "a report stored twice"
        lost = set(acknowledged) - {eid for eid, _ in stored}
        assert lost == set(), f"acknowledged but not stored: {sorted(lost)[:10]}"
        assert {eid: iid for eid, iid in stored if eid in acknowledged} == acknowledged
        with Session(bind=connection) as session:
            assert list(verify_all(session)) == []
            connection.rollback()
        _locator_and_folding_carry_on(client, engine, tmp_path)

        # the old leader's member comes back, as a replica of the new leader
        member = layout.member(old)
        daemons.start(layout, f"patroni-{old}",
                      ["/usr/bin/patroni", str(layout.member_dir(member) / "patroni.yml")],
                      member)

        # a moment; reports after it; the database restored to that moment
        at_moment = {row[0] for row in connection.execute(text("SELECT id FROM incident"))}
        moment = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
        connection.rollback()
        time.sleep(0.1)
        later = {_post(client, f"after-{i}") for i in range(3)}
        connection.close()
    engine.dispose()
    backups.archive_now(layout)  # the WAL holding the later reports reaches the repository
    restored = create_engine(backups.restore(layout, moment, _free_port()))
    try:
        with restored.connect() as connection:
            back = {row[0] for row in connection.execute(text("SELECT id FROM incident"))}
    finally:
        restored.dispose()
        backups.stop_restored(layout)
    assert back == at_moment and not later & back
