"""Two dispatchers act on one incident at the same moment with the same version: one wins,
the other is told its copy is stale (the row lock plus the version check)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from gis_service.auth.service import Principal
from gis_service.errors import PreconditionFailedError
from gis_service.incidents.actions import act
from gis_service.incidents.schemas import ActionRequest, IncidentCreate, Location
from gis_service.incidents.service import intake
from gis_service.locate.service import LocatorCache
from tests.town import import_town


def test_only_one_of_two_racing_writers_wins(scratch_url: str, tmp_path: Path) -> None:
    engine = create_engine(scratch_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        import_town(session, tmp_path)
        session.commit()
        snapshot = LocatorCache(factory, 0).current()
        body = IncidentCreate(source="video", category="GARBAGE",
                              location=Location(lon=120.402, lat=30.902))
        incident_id = intake(session, snapshot, "test", body, datetime.now(UTC)).incident.id
        session.commit()
    dispatcher = Principal(1, "dispatcher", "dispatcher", None)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def race(action: str, note: str) -> None:
        with factory() as session:
            start.wait()
            try:
                act(session, snapshot, dispatcher, incident_id,
                    ActionRequest(action=action, note=note), '"1"', datetime.now(UTC))
                session.commit()
                outcomes.append(action)
            except PreconditionFailedError:
                session.rollback()
                outcomes.append("stale")

    threads = [threading.Thread(target=race, args=args)
               for args in (("accept", ""), ("return", "not ours"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    engine.dispose()
    assert sorted(outcomes) in (["accept", "stale"], ["return", "stale"])
