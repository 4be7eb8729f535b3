"""Two detections of the same stall at once make one incident: in two transactions at the same
moment (group commit off), and through two group-commit writers with two threads each (as two
service processes would), committed for real on a database of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from gis_service.imports.service import run_import
from gis_service.incidents import audit
from gis_service.incidents.group_commit import IntakeWriter
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.models import Incident
from gis_service.incidents.schemas import IncidentCreate
from gis_service.incidents.service import (
    IntakePolicy,
    IntakeResult,
    Report,
    intake,
)
from gis_service.locate.service import LocatorCache
from tests.gis_service.cameras.conftest import CAMERAS, SCENES, WEST, write_cameras, write_scenes
from tests.town import import_town

POLICY = IntakePolicy(duplicate_radius_m=50, duplicate_window_hours=24,
                      geocode_min_confidence=0.5, ids=IdBlocks(), video_fold_minutes=30)
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def factory(scratch_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated database with the test town, its cameras and scenes, committed for real."""
    engine = create_engine(scratch_url, pool_size=10)
    made = sessionmaker(bind=engine, expire_on_commit=False)
    with made() as session:
        import_town(session, tmp_path)
        for kind, path in (("cameras", write_cameras(tmp_path, CAMERAS)),
                           ("video_scenes", write_scenes(tmp_path, SCENES))):
            assert run_import(session, kind, path).accepted
        session.commit()
    yield made
    engine.dispose()


def event(at: datetime, external_id: str | None = None) -> IncidentCreate:
    return IncidentCreate(source="video", camera_code=WEST, scene="暴露垃圾", confidence=0.9,
                          reported_at=at, external_id=external_id)


def camera_incidents(factory: sessionmaker[Session]) -> list[tuple[int, int | None]]:
    with factory() as session:
        return [(i.id, i.detections) for i in session.scalars(
            select(Incident).where(Incident.camera_code == WEST).order_by(Incident.id))]


def test_two_transactions_at_once_make_one_incident(factory: sessionmaker[Session]) -> None:
    snapshot = LocatorCache(factory, 0).current()
    rounds = 12
    def post(at: datetime, start: threading.Barrier, created: list[bool]) -> None:
        with factory() as session:
            start.wait()
            created.append(intake(session, snapshot, "camera-platform", event(at),
                                  datetime.now(UTC), POLICY).created)
            session.commit()

    for n in range(rounds):  # each round an hour after the last: beyond the window
        start = threading.Barrier(2)
        created: list[bool] = []
        at = T0 + timedelta(hours=n)
        threads = [threading.Thread(target=post, args=(at + timedelta(seconds=s), start,
                                                       created))
                   for s in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(created) == [False, True], n
    assert [count for _, count in camera_incidents(factory)] == [2] * rounds
    with factory() as session:
        assert list(audit.verify_all(session)) == []


def test_two_writers_with_two_threads_each_fold_exactly(factory: sessionmaker[Session]) -> None:
    locator = LocatorCache(factory, 0)
    writers = [IntakeWriter(factory, locator, POLICY, max_batch=8, threads=2) for _ in range(2)]
    detections = 120  # two bursts, an hour apart; some sent twice under the same id
    reports = [Report("camera-platform",
                      event(T0 + timedelta(hours=n // 60, seconds=n % 60), f"EV-{n}"),
                      datetime.now(UTC)) for n in range(detections)]
    resent = [Report("camera-platform", r.body, r.now) for r in reports[::10]]

    async def send() -> list[IntakeResult | BaseException]:
        jobs = [writers[n % 2].submit(r) for n, r in enumerate(reports + resent)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    for writer in writers:
        writer.start()
    try:
        outcomes = asyncio.run(send())
    finally:
        for writer in writers:
            writer.close()
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert sum(1 for o in outcomes if isinstance(o, IntakeResult) and o.created) == 2
    assert [count for _, count in camera_incidents(factory)] == [60, 60]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 2
        assert list(audit.verify_all(session)) == []
