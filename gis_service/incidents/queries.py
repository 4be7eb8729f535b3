"""Incident data access: lookups for routing, the scoped list with keyset paging, history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from gis_service.database import STORAGE_SRID
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.incidents.core.deadlines import overdue
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.routing import ZoneRuleData
from gis_service.incidents.models import Incident, IncidentEvent, IncidentLink
from gis_service.people.models import Department, Worker
from gis_service.places.models import District
from gis_service.responsibilities.models import ZoneRule

# the handler's own work in hand: what "workload" counts when suggesting a handler
IN_HAND = ("dispatched", "accepted", "in_progress")
# the dispatcher console's queues as list filters (an incident may sit in more than one)
# — together, everything whose next move is the command center's. `mine`: only what is
# assigned to the caller's own center (a town's, or the county's; every center's for a
# center account without a scope), see incidents/scope.assigned_to
QUEUES: dict[str, dict[str, Any]] = {
    "needs_location": {"status": "needs_location"},
    "awaiting": {"status": "reported,registered,needs_confirmation"},
    "center": {"status": ",".join(IN_HAND), "mine": True},
    "escalated": {"escalated": True, "mine": True},
    "returned": {"status": "returned", "mine": True},
    "to_verify": {"status": "resolved"},
    "to_close": {"status": "verified"},
    "overdue": {"overdue": True},
    "whistle": {"whistle": True},
}


def in_grid(code: str, level: int | None) -> ColumnElement[bool]:
    """Incidents inside the grid `code` of the given level (None: a special-purpose grid, 0:
    a county, by its towns in any version of the boundaries); one column each, so that
    column's index serves it."""
    if level == 0:
        return Incident.town_code.in_(select(GridVersion.code).where(
            GridVersion.level == 1, GridVersion.parent_code == code))
    column = {1: Incident.town_code, 2: Incident.grid2_code, 3: Incident.grid3_code}.get(
        level or 0)
    if column is None:
        return Incident.special_codes.any_() == code
    return column == code


def locked(session: Session, incident_id: int, scope: ColumnElement[bool]) -> Incident | None:
    """The incident, row-locked for an action, when the caller may see it."""
    stmt = select(Incident).where(Incident.id == incident_id, scope).with_for_update()
    return session.scalar(stmt)


def by_source(session: Session, source: str, external_id: str) -> Incident | None:
    """The incident a channel already sent with this id."""
    return session.scalar(select(Incident).where(Incident.source == source,
                                                 Incident.external_id == external_id))


def filtered(scope: ColumnElement[bool], filters: dict[str, Any],
             now: datetime) -> Select[Incident]:
    """Incidents the caller may see matching the contract's filters, most urgent first."""
    stmt = select(Incident).where(scope, *conditions(filters, now))
    if filters.get("after") is not None:
        due, last_id = filters["after"]
        stmt = stmt.where(tuple_(Incident.due_at, Incident.id) > tuple_(due, last_id))
    return stmt.order_by(Incident.due_at, Incident.id).limit(filters["limit"] + 1)


def conditions(filters: dict[str, Any], now: datetime) -> list[ColumnElement[bool]]:
    """The SQL conditions of the list's filters (`status` may name several, comma-separated)."""
    where: list[ColumnElement[bool]] = []
    if filters.get("status"):
        states = [s.strip() for s in str(filters["status"]).split(",") if s.strip()]
        where.append(Incident.status.in_(states))
    if filters.get("grid"):
        grid = filters["grid"]
        where.append(or_(Incident.grid3_code == grid, Incident.grid2_code == grid,
                         Incident.town_code == grid))
    if filters.get("district"):
        where.append(Incident.district_code == filters["district"])
    if filters.get("category"):
        where.append(Incident.category_code == filters["category"])
    if filters.get("bbox"):
        west, south, east, north = filters["bbox"]
        where.append(Incident.geom.intersects(
            gfn.ST_MakeEnvelope(west, south, east, north, 4490)))
    if filters.get("overdue") is not None:
        late = overdue(now)
        where.append(late if filters["overdue"] else ~late)
    if filters.get("whistle") is not None:
        where.append(whistled() if filters["whistle"] else ~whistled())
    if filters.get("escalated"):  # handed up and still open
        where.append(and_(Incident.escalation_level > 0, Incident.status.in_(OPEN_STATES)))
    for term in str(filters.get("q") or "").split():
        where.append(mentions(term))
    return where


# the text the list's `q` searches, written exactly as the bigram index of migration 0018
SEARCHED = (func.coalesce(Incident.description, literal_column("''")) + literal_column("' '")
            + func.coalesce(Incident.address, literal_column("''")))


def mentions(term: str) -> ColumnElement[bool]:
    """Incidents whose description or address contains `term` (any case): the character
    pairs' index narrows them (a term of two characters or more), ILIKE decides."""
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
    contains = SEARCHED.ilike(pattern)
    if len(term) < 2:
        return contains
    pairs = func.text_bigrams(SEARCHED).op("@>", is_comparison=True)(func.text_bigrams(term))
    return and_(pairs, contains)


def whistled() -> ColumnElement[bool]:
    """Open incidents whose grid blew the whistle (吹哨): departments were called to report."""
    called = exists().where(IncidentEvent.incident_id == Incident.id,
                            IncidentEvent.action == "whistle")
    return and_(Incident.status.in_(OPEN_STATES), called)


def count(session: Session, scope: ColumnElement[bool], filters: dict[str, Any],
          now: datetime) -> int:
    """How many incidents the caller may see match the filters."""
    stmt = select(func.count()).select_from(Incident).where(scope, *conditions(filters, now))
    return int(session.scalar(stmt) or 0)


def events(session: Session, incident_id: int) -> list[IncidentEvent]:
    """The incident's history in order."""
    stmt = (select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.seq))
    return list(session.scalars(stmt))


def zone_rules(session: Session) -> list[ZoneRuleData]:
    """Every zone rule."""
    return [ZoneRuleData(r.code, r.zone_level, r.in_project, tuple(r.categories), r.priority,
                         r.deadline_factor, tuple(r.cooperating))
            for r in session.scalars(select(ZoneRule).order_by(ZoneRule.code))]


def links(session: Session, incident_id: int) -> list[IncidentLink]:
    """Every link from or to an incident."""
    stmt = select(IncidentLink).where(or_(IncidentLink.incident_id == incident_id,
                                          IncidentLink.other_id == incident_id))
    return list(session.scalars(stmt.order_by(IncidentLink.created_at)))


def workload(session: Session) -> dict[tuple[str, str], int]:
    """Incidents in hand per handler (type, code)."""
    stmt = (select(Incident.assignee_type, Incident.assignee_code, func.count())
            .where(Incident.status.in_(IN_HAND), Incident.assignee_code.is_not(None))
            .group_by(Incident.assignee_type, Incident.assignee_code))
    return {(str(kind), str(code)): int(n) for kind, code, n in session.execute(stmt)}


def _metres_to(area: Any, lon: float | None, lat: float | None) -> ColumnElement[Any]:
    """Sphere distance in metres from a point to an area (0 inside), NULL with no point."""
    if lon is None or lat is None:
        return cast(null(), Float)
    point = gfn.ST_SetSRID(gfn.ST_MakePoint(lon, lat), STORAGE_SRID)
    return gfn.ST_DistanceSphere(area, point)


def grid_worker_areas(session: Session, *, lon: float | None, lat: float | None,
                      at: datetime) -> list[Any]:
    """Grid workers with their post, home grid and its distance from a point."""
    stmt = (select(Worker.code, Worker.name, Worker.on_duty, Worker.backup_code,
                   Worker.grid_code, _metres_to(GridVersion.geom, lon, lat).label("metres"))
            .outerjoin(GridVersion, and_(GridVersion.code == Worker.grid_code, valid_at(at)))
            .where(Worker.role == "grid_worker").order_by(Worker.code))
    return list(session.execute(stmt))


def squad_areas(session: Session, *, lon: float | None, lat: float | None) -> list[Any]:
    """Each squad with its nearest district's distance from a point."""
    metres = func.min(_metres_to(District.geom, lon, lat)).label("metres")
    stmt = (select(District.squad_code, func.min(District.squad_name).label("name"), metres)
            .group_by(District.squad_code).order_by(District.squad_code))
    return list(session.execute(stmt))


def town_areas(session: Session, *, lon: float | None, lat: float | None,
               at: datetime) -> list[Any]:
    """Every town (level-1 grid) with its distance from a point."""
    stmt = (select(GridVersion.code, GridVersion.name,
                   _metres_to(GridVersion.geom, lon, lat).label("metres"))
            .where(GridVersion.level == 1, valid_at(at)).order_by(GridVersion.code))
    return list(session.execute(stmt))


def departments(session: Session, town: str | None = None) -> dict[str, str]:
    """Department code → name: every one, or those a matter in `town` may go to (the county's
    and that town's own, and any tied to no town)."""
    stmt = select(Department.code, Department.name)
    if town is not None:
        stmt = stmt.where(or_(Department.tier == "county", Department.town_code.is_(None),
                              Department.town_code == town))
    return {code: name for code, name in session.execute(stmt)}


def last_detail(session: Session, incident_id: int, action: str) -> dict[str, Any] | None:
    """The detail of the incident's latest history row of an action, if any."""
    stmt = (select(IncidentEvent.detail)
            .where(IncidentEvent.incident_id == incident_id, IncidentEvent.action == action)
            .order_by(IncidentEvent.seq.desc()).limit(1))
    return session.scalar(stmt)
