"""The demo's simulated day, a few rounds against a live service (its own database and
connections, as `make demo` runs it) on a county of two towns: reports arrive through the API,
grid workers take their own work in hand as themselves, the center closes what is verified, a
town hands a ticket up and the county sends it down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from gis_service.auth import service as auth_service
from gis_service.config import Settings
from gis_service.demo_live import DemoDay, Pace, run
from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.main import create_app
from gis_service.timeutil import CHINA_TIME
from tests.gis_service.incidents.test_county_tier import county_files
from tests.map_ui.fixtures import serving
from tests.town import write_csv

MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=CHINA_TIME)  # a busy hour, whenever it runs
BUSY = Pace(reports_per_hour=30, accept=0.5, start=1, resolve=1, verify=1, close=1,
            evaluate=0.1, escalate=1, send_down=1, pings=2)


def test_a_few_rounds_of_the_demo_day(scratch_url: str, tmp_path: Path) -> None:
    engine = create_engine(scratch_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with factory() as session:
            files = county_files(tmp_path)
            for kind in ("grids", "departments", "workers", "responsibilities"):
                assert run_import(session, kind, files[kind]).accepted
                session.commit()
            for name, role, scope, worker in (
                    ("admin", "admin", None, None), ("dispatcher", "dispatcher", None, None),
                    ("county", "dispatcher", "C", None), ("qidu", "dispatcher", "T", None),
                    ("w1", "grid_worker", "T-A-1", "W1"),
                    ("wu1", "grid_worker", "U-A-1", "WU1")):
                account = auth_service.add_account(session, username=name, role=role,
                                                   scope_code=scope)
                account.worker_code = worker
            session.commit()
        settings = Settings(database_url=scratch_url, escalation_interval_seconds=0,
                            webhook_poll_seconds=0)
        with serving(create_app(settings)) as origin, \
                httpx.Client(base_url=origin, timeout=30) as client:
            day = DemoDay(origin, factory, client=client, seed=7, pace=BUSY,
                          clock=lambda: MORNING)
            run(day, round_seconds=3600, rounds=4, log_every=0, pause=0)
        done = day.tally.counts
        assert done["report"] >= 4 and done["accept"] >= 1 and done["ping"] >= 1, done
        assert done["escalate"] >= 1 and done["dispatch"] >= 1, done
        assert day.tally.failures == 0
        assert day.county == "county" and day.centers == {"T": "qidu"}
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Incident)) == done["report"]
            # grid workers acted as themselves, the county as the county center
            actors = set(session.scalars(select(IncidentEvent.actor).where(
                IncidentEvent.action.in_(("accept", "resolve")))))
            assert actors & {"w1", "wu1"}, actors
            sent_down = session.scalars(select(IncidentEvent.actor).where(
                IncidentEvent.action == "dispatch", IncidentEvent.actor == "county")).all()
            assert sent_down, "the county sent nothing down"
    finally:
        engine.dispose()


def test_the_demo_day_sends_camera_events_that_fold(scratch_url: str, tmp_path: Path) -> None:
    engine = create_engine(scratch_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with factory() as session:
            files = county_files(tmp_path)
            files["cameras"] = write_csv(tmp_path / "cameras.csv",
                                         ["code", "name", "lon", "lat", "scenes"],
                                         [["32050906001320000001", "七都镇西村路口", "120.405",
                                           "30.905", "暴露垃圾"]])
            files["video_scenes"] = write_csv(
                tmp_path / "video_scenes.csv",
                ["scene", "category_code", "min_confidence", "dwell_seconds",
                 "needs_confirmation"], [["暴露垃圾", "GARBAGE", "0.5", "0", "no"],
                                         ["人员聚集", "GARBAGE", "0.5", "0", "yes"]])
            for kind in ("grids", "departments", "workers", "responsibilities", "cameras",
                         "video_scenes"):
                assert run_import(session, kind, files[kind]).accepted
                session.commit()
            auth_service.add_account(session, username="admin", role="admin")
            session.commit()
        settings = Settings(database_url=scratch_url, escalation_interval_seconds=0,
                            webhook_poll_seconds=0)
        with serving(create_app(settings)) as origin, \
                httpx.Client(base_url=origin, timeout=30) as client:
            day = DemoDay(origin, factory, client=client, seed=3, clock=lambda: MORNING)
            day.load()
            for _ in range(12):
                day._camera_event()
        done = day.tally.counts
        # the camera reports the scenes it lists, not every scene there is
        assert day.cameras == [("32050906001320000001", ("暴露垃圾",))]
        assert day.tally.failures == 0 and done["camera_event"] == 1, done
        assert done["camera_repeat"] == 11  # one camera, one scene: each folds in
        with factory() as session:
            incident = session.scalars(select(Incident)).one()
            assert (incident.camera_code, incident.detections) == ("32050906001320000001", 12)
    finally:
        engine.dispose()
