"""Incident data access: lookups for routing, the scoped list with keyset paging, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_
from sqlalchemy.orm import Session

from gis_service.incidents.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident, IncidentEvent, IncidentLink
from gis_service.incidents.routing import Rule, ZoneRuleData
from gis_service.responsibilities.models import Category, ZoneRule


def rule_for(session: Session, category_code: str | None) -> Rule | None:
    """The responsibility-list entry of a category, or None when unknown."""
    if not category_code:
        return None
    category = session.scalar(select(Category).where(Category.code == category_code))
    if category is None:
        return None
    return Rule(category.code, category.handler, category.department_code,
                tuple(category.cooperating), category.respond_hours, category.resolve_hours)


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
    stmt = select(Incident).where(scope)
    if filters.get("status"):
        stmt = stmt.where(Incident.status == filters["status"])
    if filters.get("grid"):
        grid = filters["grid"]
        stmt = stmt.where(or_(Incident.grid3_code == grid, Incident.grid2_code == grid,
                              Incident.town_code == grid))
    if filters.get("district"):
        stmt = stmt.where(Incident.district_code == filters["district"])
    if filters.get("category"):
        stmt = stmt.where(Incident.category_code == filters["category"])
    if filters.get("bbox"):
        west, south, east, north = filters["bbox"]
        stmt = stmt.where(Incident.geom.intersects(
            gfn.ST_MakeEnvelope(west, south, east, north, 4490)))
    if filters.get("overdue") is not None:
        late = and_(Incident.due_at < now, Incident.status.in_(OPEN_STATES))
        stmt = stmt.where(late if filters["overdue"] else ~late)
    if filters.get("after") is not None:
        due, last_id = filters["after"]
        stmt = stmt.where(tuple_(Incident.due_at, Incident.id) > tuple_(due, last_id))
    return stmt.order_by(Incident.due_at, Incident.id).limit(filters["limit"] + 1)


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
