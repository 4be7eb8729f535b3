"""Stationed staff SQL: who is stationed where, what their departments did in that town in a
month, and the parties' ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session, aliased

from gis_service.assessment.models import StationedRating
from gis_service.incidents.core.deadlines import closed_on_time
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.people.models import Department, Worker


@dataclass(frozen=True)
class Stationed:
    """A county department's staff member and the town their department stations them in."""

    worker_code: str
    worker_name: str
    department_code: str
    department_name: str
    town_code: str


@dataclass(frozen=True)
class DepartmentWork:
    """A department's tickets in one town over a month: handed to it, closed while it held
    them (and how many on time), and handed back by it."""

    received: int = 0
    cooperated: int = 0  # reported in the month with the department as co-handler (配合)
    closed: int = 0
    closed_on_time: int = 0
    returned: int = 0


def stationed(session: Session, *, worker: str | None = None) -> list[Stationed]:
    """Staff of county departments that name a town, in town and code order."""
    stmt = (select(Worker.code, Worker.name, Department.code, Department.name,
                   Department.town_code)
            .join(Department, Department.code == Worker.department_code)
            .where(Worker.role == "department_staff", Department.tier == "county",
                   Department.town_code.is_not(None)))
    if worker is not None:
        stmt = stmt.where(Worker.code == worker)
    return [Stationed(code, name, department, department_name, town or "")
            for code, name, department, department_name, town in session.execute(
                stmt.order_by(Department.town_code, Worker.code))]


def department_work(session: Session, *, departments: set[str], start: datetime,
                    end: datetime) -> dict[tuple[str, str], DepartmentWork]:
    """(department, town) → its work within [start, end), for the departments given."""
    if not departments:
        return {}
    counts: dict[tuple[str, str], dict[str, int]] = {}

    def add(kind: str, stmt: object) -> None:
        for code, town, count, *on_time in session.execute(stmt):  # type: ignore[call-overload]
            if code is None or town is None:
                continue
            row = counts.setdefault((code, town), {})
            row[kind] = int(count)
            if on_time:
                row["closed_on_time"] = int(on_time[0] or 0)

    after_code = IncidentEvent.after["assignee_code"].astext
    before_code = IncidentEvent.before["assignee_code"].astext
    # each statement reads the month's events through a partial index on `at` (0010: closes,
    # 0017: returns, 0020: hand-overs to a department)
    moved = and_(IncidentEvent.at >= start, IncidentEvent.at < end,
                 IncidentEvent.incident_id == Incident.id)
    add("received", select(after_code, Incident.town_code, func.count())
        .where(moved, IncidentEvent.after["assignee_type"].astext == "department",
               after_code.in_(departments), before_code.is_distinct_from(after_code))
        .group_by(after_code, Incident.town_code))
    add("returned", select(before_code, Incident.town_code, func.count())
        .where(moved, IncidentEvent.action == "return",
               IncidentEvent.before["assignee_type"].astext == "department",
               before_code.in_(departments))
        .group_by(before_code, Incident.town_code))
    partner = func.unnest(Incident.cooperating).table_valued("code").render_derived("partner")
    add("cooperated", select(partner.c.code, Incident.town_code, func.count())
        .select_from(Incident).join(partner, true())
        .where(Incident.reported_at >= start, Incident.reported_at < end,
               Incident.cooperating.overlap(sorted(departments)),
               partner.c.code.in_(departments))
        .group_by(partner.c.code, Incident.town_code))
    later = aliased(IncidentEvent)  # a close after this one: reopened and closed again
    last_close = ~exists().where(later.incident_id == Incident.id, later.action == "close",
                                 later.at > IncidentEvent.at)
    add("closed", select(Incident.assignee_code, Incident.town_code, func.count(),
                         func.count().filter(closed_on_time(IncidentEvent.at)))
        .where(moved, IncidentEvent.action == "close", Incident.status == "closed",
               Incident.assignee_type == "department", Incident.assignee_code.in_(departments),
               last_close)
        .group_by(Incident.assignee_code, Incident.town_code))
    return {key: DepartmentWork(**row) for key, row in counts.items()}


def ratings(session: Session, *, month: str,
            workers: set[str]) -> dict[tuple[str, str], StationedRating]:
    """(worker, party) → the month's rating, for the workers given."""
    stmt = select(StationedRating).where(StationedRating.month == month,
                                         StationedRating.worker_code.in_(workers))
    return {(r.worker_code, r.party): r for r in session.scalars(stmt)}
