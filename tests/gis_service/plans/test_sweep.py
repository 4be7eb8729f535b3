"""The sweep after a publication: a report another service process located against the
boundaries before it (committed after the publication's re-attribution) is moved to the grid
the new boundaries name and settled by the publication's policy, with its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.incidents.audit import verify_all
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.schemas import IncidentCreate, Location
from gis_service.incidents.service import intake
from gis_service.locate.service import load_layers
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.plans import sweep
from tests.gis_service.plans.test_impact import STRIP
from tests.gis_service.plans.test_publish import age_town, last_event, moved_plan, publish


def test_a_report_located_against_the_old_boundaries_is_swept(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    age_town(db_session)
    before = LocatorSnapshot(load_layers(db_session, datetime.now(UTC)))
    before.extra = load_routing_book(db_session)
    plan = moved_plan(db_session)
    scheduled: list[dict[str, Any]] = []
    monkeypatch.setattr(sweep, "sweep_later", lambda factory, **kw: scheduled.append(kw))
    started = datetime.now(UTC)

    answer = publish(client, auth, plan.id, started - timedelta(days=1))

    assert answer.status_code == 201, answer.text
    publication_id = answer.json()["id"]
    assert [s["publication_id"] for s in scheduled] == [publication_id]
    assert scheduled[0]["delay_seconds"] >= 1.0
    body = IncidentCreate(source="video", category="GARBAGE",
                          location=Location(lon=STRIP[0], lat=STRIP[1], crs="cgcs2000"))
    late = intake(db_session, before, "test", body, datetime.now(UTC)).incident
    db_session.commit()
    assert late.grid3_code == "T-A-1"  # where the boundaries before put it

    corrected = sweep.sweep_publication(db_session, publication_id=publication_id,
                                        started_at=started, now=datetime.now(UTC))
    db_session.commit()

    assert corrected == 1
    db_session.expire_all()
    moved = db_session.get(Incident, late.id)
    assert moved is not None and (moved.grid3_code, moved.grid2_code) == ("T-B-1", "T-B")
    event = last_event(db_session, late.id)
    assert event.action == "regrid" and event.detail["handler"] == "kept"
    assert event.detail["from"]["grid3"] == "T-A-1" and event.detail["to"]["grid3"] == "T-B-1"
    assert list(verify_all(db_session)) == []
    assert sweep.sweep_publication(db_session, publication_id=publication_id,
                                   started_at=started, now=datetime.now(UTC)) == 0
