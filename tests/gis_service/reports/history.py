"""Hand-made incidents with known histories for the report tests: the week of Monday
2026-03-02 (China time), five reports in it and one from the week before closed in it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.database import STORAGE_SRID
from gis_service.incidents.core.case import state_of
from gis_service.incidents.models import Incident
from gis_service.incidents.service import record
from gis_service.timeutil import CHINA_TIME

WEEK_DAY = "2026-03-04"
STATE_AFTER = {"dispatch": "dispatched", "accept": "accepted", "return": "returned",
               "resolve": "resolved", "verify": "verified", "close": "closed"}
GRIDS = {"T-A-1": ("T-A", "D1"), "T-A-2": ("T-A", "D2"), "T-B-1": ("T-B", "D1"),
         "T-B-2": ("T-B", "D2")}
WORKERS = {"T-A-1": "W1", "T-A-2": "W2", "T-B-1": "W3", "T-B-2": "W4"}  # each grid's post


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A China-time moment of March (or `month`) 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TIME)


def make(session: Session, *, reported: datetime, grid3: str, lon: float, lat: float,
         steps: list[tuple[str, datetime]], source: str = "hotline_12345",
         category: str | None = "GARBAGE", respond_due: datetime | None = None,
         due: datetime | None = None, resolution: str | None = None,
         satisfaction: int | None = None) -> Incident:
    """An incident with a report event and then `steps` (action, when), chained."""
    grid2, district = GRIDS[grid3]
    incident = Incident(
        id=int(session.execute(select(func.nextval("incident_id_seq"))).scalar_one()),
        source=source, category_code=category, description="", lon=lon, lat=lat,
        geom=from_shape(Point(lon, lat), srid=STORAGE_SRID), reported_at=reported,
        status="reported", priority=0, town_code="T", grid2_code=grid2, grid3_code=grid3,
        district_code=district, zone_codes=[], special_codes=[], cooperating=[],
        escalation_level=0, respond_due_at=respond_due, due_at=due, history_head="",
        history_length=0, version=1, created_at=reported, updated_at=reported,
        assignee_type="grid_worker", assignee_code=WORKERS[grid3])
    session.add(incident)
    session.flush()
    record(session, incident, actor="test", action="report", at=reported, before={})
    for action, when in steps:
        before = state_of(incident)
        incident.status = STATE_AFTER.get(action, incident.status)
        if action == "close":
            incident.resolution = resolution
        record(session, incident, actor="test", action=action, at=when, before=before)
    incident.satisfaction = satisfaction
    session.flush()
    return incident


def closed_loop(reported: datetime, dispatched: datetime, accepted: datetime,
                resolved: datetime, closed: datetime) -> list[tuple[str, datetime]]:
    """dispatch → accept → resolve → verify → close."""
    return [("dispatch", dispatched), ("accept", accepted), ("resolve", resolved),
            ("verify", resolved), ("close", closed)]


def week_of_incidents(session: Session) -> dict[str, Any]:
    """A–F of the test plan (see test_reports.py); committed."""
    here = {"grid3": "T-A-1", "lon": 120.405, "lat": 30.905}
    made = {
        "A": make(session, reported=at(2, 9), **here, respond_due=at(2, 11), due=at(3, 9),
                  steps=closed_loop(at(2, 9), at(2, 9, 10), at(2, 10), at(2, 20), at(2, 21)),
                  resolution="service", satisfaction=5),
        "B": make(session, reported=at(3, 9), grid3="T-A-1", lon=120.40505, lat=30.90505,
                  source="grid_patrol", respond_due=at(3, 11), due=at(3, 21),
                  steps=closed_loop(at(3, 9), at(3, 9), at(3, 12), at(4, 8), at(4, 9)),
                  resolution="management", satisfaction=3),
        "C": make(session, reported=at(4, 10), grid3="T-B-2", lon=120.415, lat=30.915,
                  category="BUILDING", respond_due=at(4, 12), due=at(5, 10),
                  steps=[("dispatch", at(4, 10)), ("return", at(4, 11)),
                         ("dispatch", at(4, 12)), ("accept", at(4, 13)),
                         ("escalate", at(4, 20)), ("resolve", at(5, 20)),
                         ("verify", at(5, 21)), ("close", at(6, 22))],
                  resolution="enforcement"),
        "D": make(session, reported=at(7, 8), grid3="T-A-1", lon=120.405, lat=30.9051,
                  source="video", respond_due=at(7, 10), due=at(8, 8),
                  steps=[("dispatch", at(7, 8))]),
        "E": make(session, reported=at(26, 10, month=2), grid3="T-A-2", lon=120.405,
                  lat=30.915, due=at(27, 10, month=2),
                  steps=closed_loop(at(26, 10, month=2), at(26, 10, month=2),
                                    at(26, 11, month=2), at(28, 10, month=2), at(2, 10)),
                  resolution="service"),
        "F": make(session, reported=at(5, 9), grid3="T-B-1", lon=120.415, lat=30.905,
                  source="walk_in", steps=[("dispatch", at(5, 9, 30))]),
    }
    session.commit()
    return made
