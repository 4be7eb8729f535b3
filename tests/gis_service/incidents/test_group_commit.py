"""Group commit: reports taken in together are each stored exactly as if alone (located,
routed, duplicates linked, history chained), written in one transaction; a bad report fails
alone; the HTTP intake answers each caller after its batch commits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from gis_service.context import app_context
from gis_service.errors import InvalidInputError
from gis_service.incidents import audit
from gis_service.incidents.group_commit import IntakeWriter
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.models import Incident, IncidentEvent, IncidentLink
from gis_service.incidents.schemas import IncidentCreate, Location
from gis_service.incidents.service import IntakePolicy, IntakeResult, Report, intake_many
from gis_service.locate.service import LocatorCache
from tests.town import import_town

POLICY = IntakePolicy(duplicate_radius_m=50, duplicate_window_hours=24,
                      geocode_min_confidence=0.5, ids=IdBlocks())


def report(external_id: str | None, lon: float, lat: float, category: str = "GARBAGE",
           crs: str = "wgs84") -> Report:
    body = IncidentCreate(source="hotline_12345", external_id=external_id, category=category,
                          location=Location(lon=lon, lat=lat, crs=crs))
    return Report("test", body, datetime.now(UTC))


@pytest.fixture
def factory(scratch_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated database with the test town, committed for real (several connections)."""
    engine = create_engine(scratch_url)
    made = sessionmaker(bind=engine, expire_on_commit=False)
    with made() as session:
        import_town(session, tmp_path)
        session.commit()
    yield made
    engine.dispose()


def test_a_batch_is_stored_as_if_each_report_came_alone(
        factory: sessionmaker[Session]) -> None:
    locator = LocatorCache(factory, 0)
    with factory() as session:
        first = intake_many(session, locator.current(), [report("E0", 120.402, 30.902)],
                            POLICY)[0]
        session.commit()
    batch = [report("E1", 120.4021, 30.9021),           # 15 m from E0: a possible duplicate
             report("E2", 120.4022, 30.9020),           # near E0 and E1 (same batch)
             report("E1", 120.4021, 30.9021),           # E1 again in the same batch
             report("E0", 120.402, 30.902),             # E0 again, stored before
             report("E3", 120.415, 30.915, "BUILDING"),  # another matter: no link
             report("E4", 120.402, 30.902, crs="mars")]  # refused alone
    with factory() as session:
        outcomes = intake_many(session, locator.current(), batch, POLICY)
        session.commit()
    assert isinstance(first, IntakeResult)
    assert isinstance(outcomes[5], InvalidInputError)
    results = [o for o in outcomes[:5] if isinstance(o, IntakeResult)]
    assert [r.created for r in results] == [True, True, False, False, True]
    e1, e2, e1_again, e0_again, e3 = (r.incident for r in results)
    assert e1_again.id == e1.id and e0_again.id == first.incident.id
    with factory() as session:
        stored = {i.external_id: i for i in session.scalars(select(Incident))}
        assert sorted(stored) == ["E0", "E1", "E2", "E3"]
        assert stored["E3"].assignee_code == "Q2" and stored["E1"].status == "dispatched"
        links = {(link.incident_id, link.other_id) for link in session.scalars(
            select(IncidentLink))}
        e0 = first.incident.id
        assert links == {(e1.id, e0), (e2.id, e0), (e2.id, e1.id)}
        detail = session.scalar(select(IncidentEvent.detail).where(
            IncidentEvent.incident_id == e2.id, IncidentEvent.action == "report"))
        assert detail is not None and detail["possible_duplicates"] == sorted([e0, e1.id])
        actions = session.scalars(select(IncidentEvent.action).where(
            IncidentEvent.incident_id == e3.id).order_by(IncidentEvent.seq)).all()
        assert actions == ["report", "dispatch"]
        assert list(audit.verify_all(session)) == []


def _submit_all(writer: IntakeWriter,
                reports: list[Report]) -> list[IntakeResult | BaseException]:
    async def send() -> list[IntakeResult | BaseException]:
        return await asyncio.gather(*(writer.submit(r) for r in reports),
                                    return_exceptions=True)

    writer.start()
    try:
        return asyncio.run(send())
    finally:
        writer.close()


def test_the_writer_writes_concurrent_reports_together(
        factory: sessionmaker[Session]) -> None:
    writer = IntakeWriter(factory, LocatorCache(factory, 0), POLICY, max_batch=64)
    outcomes = _submit_all(writer, [report(f"C{n}", 120.40 + n * 0.0005, 30.90 + n * 0.0005)
                                    for n in range(40)])
    assert all(isinstance(o, IntakeResult) and o.created for o in outcomes)
    assert writer.reports == 40 and writer.batches < 40  # some were written together
    with factory() as session:
        assert session.scalar(text("SELECT count(*) FROM incident")) == 40
        assert list(audit.verify_all(session)) == []


def test_a_report_the_database_refuses_fails_alone(factory: sessionmaker[Session]) -> None:
    writer = IntakeWriter(factory, LocatorCache(factory, 0), POLICY, max_batch=64, threads=1)
    reports = [report(f"C{n}", 120.40 + n * 0.0005, 30.90) for n in range(20)]
    valid = report("X", 120.402, 30.902)
    too_long = valid.body.model_copy(update={"external_id": "X" * 200})  # beyond the column
    reports.insert(7, Report("test", too_long, valid.now))
    outcomes = _submit_all(writer, reports)
    failed = [n for n, o in enumerate(outcomes) if isinstance(o, BaseException)]
    assert failed == [7]
    with factory() as session:
        assert session.scalar(text("SELECT count(*) FROM incident")) == 20
        assert list(audit.verify_all(session)) == []


def test_with_its_writer_closed_the_intake_writes_alone(client: TestClient,
                                                       town: dict[str, Path],
                                                       auth: dict[str, str]) -> None:
    # e.g. a harness ran and stopped a second lifespan on the same app
    writer = app_context(client.app).intake_writer  # type: ignore[arg-type]
    assert writer is not None
    writer.close()
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "walk_in", "category": "GARBAGE",
        "location": {"lon": 120.402, "lat": 30.902}})
    assert response.status_code == 201 and response.json()["status"] == "dispatched"
    with pytest.raises(RuntimeError):
        asyncio.run(writer.submit(report("Z", 120.402, 30.902)))
