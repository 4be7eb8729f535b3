"""The towns' league (各镇排名) of a month: each town's intake, what was open and overdue at the
month's end, closures on time, the 721 ratio, satisfaction, escalations and the tickets it
returned to the county — side by side, for the towns the caller oversees. One statement per
figure group, each grouped by town over the incidents' indexes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from gis_service.auth.service import Principal
from gis_service.grids.queries import Town, towns
from gis_service.incidents.core.deadlines import closed_on_time
from gis_service.incidents.core.lifecycle import OPEN_STATES, RESOLUTIONS
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.incidents.scope import CENTER_STAFF, visible
from gis_service.reports.measures import mean_rating, rate, ratio_721
from gis_service.reports.periods import month_of
from gis_service.reports.queries import CLOSE, Rows

OPEN = sorted(OPEN_STATES)
# written into the SQL so the planner matches the history's partial indexes (migration 0017)
ESCALATE: ColumnClause[Any] = literal_column("'escalate'")
RETURN: ColumnClause[Any] = literal_column("'return'")


@dataclass(frozen=True)
class TownRow:
    """One town's figures of the month."""

    code: str
    name: str
    intake: int  # reports that came in during the month
    open: int  # open at the month's end (now, for this month)
    overdue: int  # of those, past a deadline then
    on_time_rate: float | None  # closures of the month closed on time
    ratio_721: list[float] | None  # service : management : enforcement of the closures, of 10
    satisfaction: float | None  # the mean rating (1–5) of the month's closures
    escalated: int  # escalations during the month
    returned: int  # tickets the town center returned to the county ("not ours")


@dataclass(frozen=True)
class League:
    """The month and its towns, in code order."""

    month: str
    towns: list[TownRow]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def league(session: Session, principal: Principal, month: date,
           now: datetime | None = None) -> League:
    """The league of the calendar month (China time) of `month`, for the towns `principal`
    oversees: a county center its county's towns, a town center its own, others every town."""
    start, end = month_of(month)
    until = min(end, now or datetime.now(UTC))
    shown = _towns(session, principal, until)
    codes = [t.code for t in shown]
    scope = and_(visible(principal), Incident.town_code.in_(codes))
    intake = dict(_pairs(session, _intake(scope, start, end)))
    at_end: dict[str, tuple[int, int]] = {}
    for part in _open_at(scope, until):
        for town, count, late in session.execute(part):
            before = at_end.get(town, (0, 0))
            at_end[town] = (before[0] + count, before[1] + late)
    closed = {row[0]: row[1:] for row in session.execute(_closures(scope, start, end))}
    moves = {row[0]: row[1:] for row in session.execute(_moves(scope, start, end))}
    rows = []
    for town in shown:
        count, on_time, *rest = closed.get(town.code, (0, 0, 0, 0, 0, 0, 0))
        resolutions = dict(zip(RESOLUTIONS, rest[:3], strict=True))
        rated_sum, rated = rest[3], rest[4]
        open_now, overdue = at_end.get(town.code, (0, 0))
        escalated, returned = moves.get(town.code, (0, 0))
        rows.append(TownRow(town.code, town.name, intake.get(town.code, 0), open_now, overdue,
                            rate(on_time, count), ratio_721(resolutions),
                            mean_rating(rated_sum, rated), escalated, returned))
    return League(month.strftime("%Y-%m"), rows)


def _towns(session: Session, principal: Principal, at: datetime) -> list[Town]:
    scope = principal.scope_code
    every = towns(session, at) or towns(session, datetime.now(UTC))  # drawn after the month
    if principal.role not in CENTER_STAFF or not scope:
        return every
    return [t for t in every if scope in (t.code, t.county)]


def _pairs(session: Session, stmt: Rows) -> list[tuple[str, int]]:
    return [(town, count) for town, count in session.execute(stmt)]


def _intake(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    return (select(Incident.town_code, func.count())
            .where(scope, Incident.reported_at >= start, Incident.reported_at < end)
            .group_by(Incident.town_code))


def _open_at(scope: ColumnElement[bool], at: datetime) -> list[Rows]:
    """Per town: incidents open at `at` and how many of them were past a deadline then, in
    two parts to be added: those open now, and those closed for the last time since `at`
    (found from the closures' index, not by walking every incident's history)."""
    missed = func.coalesce(Incident.overdue_since, Incident.due_at) < at
    open_now = (select(Incident.town_code, func.count(), func.count().filter(missed))
                .where(scope, Incident.status.in_(OPEN), Incident.reported_at < at)
                .group_by(Incident.town_code))
    closing = (select(IncidentEvent.incident_id, func.max(IncidentEvent.at).label("last"))
               .where(IncidentEvent.action == CLOSE, IncidentEvent.at >= at)
               .group_by(IncidentEvent.incident_id).subquery("closing"))
    closed_since = (select(Incident.town_code, func.count(), func.count().filter(missed))
                    .select_from(closing).join(Incident, Incident.id == closing.c.incident_id)
                    .where(scope, Incident.status == "closed", Incident.reported_at < at)
                    .group_by(Incident.town_code))
    return [open_now, closed_since]


def _closures(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Per town, the incidents last closed in the month: how many, on time, each resolution,
    the ratings' sum and count."""
    closing = (select(IncidentEvent.incident_id, func.max(IncidentEvent.at).label("closed"))
               .where(IncidentEvent.action == CLOSE, IncidentEvent.at >= start,
                      IncidentEvent.at < end)
               .group_by(IncidentEvent.incident_id).subquery("closing"))
    return (select(Incident.town_code, func.count(),
                   func.count().filter(closed_on_time(closing.c.closed)),
                   *(func.count().filter(Incident.resolution == r) for r in RESOLUTIONS),
                   func.coalesce(func.sum(Incident.satisfaction), 0),
                   func.count(Incident.satisfaction))
            .select_from(closing).join(Incident, Incident.id == closing.c.incident_id)
            .where(scope, Incident.status == "closed").group_by(Incident.town_code))


def _moves(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Per town: escalations in the month, and returns by the town center (to the county)."""
    by_town = IncidentEvent.detail["returned_by"]["type"].astext == "town"
    return (select(Incident.town_code,
                   func.count().filter(IncidentEvent.action == "escalate"),
                   func.count().filter(IncidentEvent.action == "return", by_town))
            .select_from(IncidentEvent).join(Incident, Incident.id == IncidentEvent.incident_id)
            .where(scope, IncidentEvent.action.in_((ESCALATE, RETURN)),
                   IncidentEvent.at >= start, IncidentEvent.at < end)
            .group_by(Incident.town_code))
