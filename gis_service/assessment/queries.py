"""Assessment SQL: each grid worker's facts of a month, gathered for all workers at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import (
    ColumnElement,
    Date,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased

from gis_service.assessment.models import SpotCheck
from gis_service.auth.models import Account
from gis_service.database import STORAGE_SRID
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.grids.models import GridVersion
from gis_service.incidents.core.deadlines import closed_on_time
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.patrols.models import PatrolTrack, WorkerPosition
from gis_service.patrols.queries import GEOGRAPHY
from gis_service.people.models import Worker

CHINA_ZONE = "Asia/Shanghai"  # no daylight saving: the same UTC+8 as timeutil.CHINA_TIME
# a track is the worker's when it names them, or else when its account is linked to them
track_owner = func.coalesce(PatrolTrack.worker_code, Account.worker_code)


@dataclass(frozen=True)
class Coverage:
    """A worker's home grid area and the part of it within the buffer of their tracks."""

    area_m2: float | None
    covered_m2: float
    track_ids: list[int]


@dataclass(frozen=True)
class Found:
    """An incident reported from patrol by a worker's account."""

    worker_code: str
    incident_id: int
    category: str | None
    grid3_code: str | None
    at: datetime


@dataclass(frozen=True)
class Closed:
    """An incident a worker held, closed: its last close in the month, its due time, when it
    first missed a deadline, and whether it was closed on time (`deadlines.closed_on_time`)."""

    worker_code: str
    incident_id: int
    closed_at: datetime
    due_at: datetime | None
    overdue_since: datetime | None
    on_time: bool


def _china_day(column: SQLColumnExpression[datetime]) -> ColumnElement[date]:
    return cast(func.timezone(CHINA_ZONE, column), Date)


def _between(column: SQLColumnExpression[datetime], start: datetime,
             end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def grid_workers(session: Session, *, code: str | None = None) -> list[Worker]:
    """Workers on a grid-worker post (one, when `code` is given), in code order."""
    stmt = select(Worker).where(Worker.role == "grid_worker",
                                Worker.code == code if code is not None else true())
    return list(session.scalars(stmt.order_by(Worker.code)))


def home_grids(at: datetime) -> Select[tuple[str, Any]]:
    """Every worker's possible home grid (level 3 for a grid worker, the village for its
    head) as valid at `at`, or as first drawn when that was later: a month assessed from
    history imported after it is measured against the grids the town then drew."""
    not_ended = or_(GridVersion.valid_to.is_(None), GridVersion.valid_to > at)
    return (select(GridVersion.code, GridVersion.geom)
            .where(GridVersion.level.in_((2, 3)), not_ended)
            .order_by(GridVersion.code, GridVersion.valid_from)
            .ext(distinct_on(GridVersion.code)))


def coverage(session: Session, *, start: datetime, end: datetime, grids_at: datetime,
             buffer_m: float) -> dict[str, Coverage]:
    """Per grid worker: home grid area (None without a grid `home_grids` finds) and
    the area of it within `buffer_m` metres of their own tracks started within [start, end)."""
    # buffered on the ellipsoid as in patrols.queries.coverage, but only the worker's tracks
    buffered = gfn.ST_SetSRID(
        func.geometry(gfn.ST_Buffer(cast(PatrolTrack.geom, GEOGRAPHY), buffer_m)), STORAGE_SRID)
    cover = (select(track_owner.label("code"), gfn.ST_Union(buffered).label("geom"),
                    func.array_agg(PatrolTrack.id).label("ids"))
             .join(Account, Account.id == PatrolTrack.account_id)
             .where(_between(PatrolTrack.started_at, start, end), track_owner.is_not(None))
             .group_by(track_owner).subquery())
    grid = home_grids(grids_at).subquery()
    covered = func.coalesce(
        gfn.ST_Area(cast(gfn.ST_Intersection(grid.c.geom, cover.c.geom), GEOGRAPHY)), 0.0)
    stmt = (select(Worker.code, gfn.ST_Area(cast(grid.c.geom, GEOGRAPHY)), covered, cover.c.ids)
            .select_from(Worker)
            .outerjoin(grid, grid.c.code == Worker.grid_code)
            .outerjoin(cover, cover.c.code == Worker.code)
            .where(Worker.role == "grid_worker"))
    return {code: Coverage(float(area) if area is not None else None, float(part or 0.0),
                           sorted(ids or []))
            for code, area, part, ids in session.execute(stmt)}


def active_days(session: Session, *, start: datetime,
                end: datetime) -> list[tuple[str, date, str]]:
    """(worker, China day, source) for each day with a track, the last ping or a history
    action of the worker's accounts within [start, end)."""
    track_day = _china_day(PatrolTrack.started_at)
    tracks = (select(track_owner, track_day, literal("track"))
              .join(Account, Account.id == PatrolTrack.account_id)
              .where(_between(PatrolTrack.started_at, start, end), track_owner.is_not(None))
              .distinct())
    # only each account's latest position is stored: earlier pings leave no fact behind
    pings = (select(Account.worker_code, _china_day(WorkerPosition.at),
                    literal("ping"))
             .join(Account, Account.id == WorkerPosition.account_id)
             .where(_between(WorkerPosition.at, start, end), Account.worker_code.is_not(None)))
    actions = (select(Account.worker_code, _china_day(IncidentEvent.at),
                      literal("history"))
               .join(Account, Account.username == IncidentEvent.actor)
               .where(_between(IncidentEvent.at, start, end), Account.worker_code.is_not(None))
               .distinct())
    return [(code, day, source) for statement in (tracks, pings, actions)
            for code, day, source in session.execute(statement) if code is not None]


def found_on_patrol(session: Session, *, start: datetime, end: datetime) -> list[Found]:
    """Incidents from the `grid_patrol` channel whose report was made within [start, end)
    by an account linked to a worker."""
    stmt = (select(Account.worker_code, Incident.id, Incident.category_code, Incident.grid3_code,
                   IncidentEvent.at)
            .join(IncidentEvent, IncidentEvent.incident_id == Incident.id)
            .join(Account, Account.username == IncidentEvent.actor)
            .where(Incident.source == "grid_patrol", IncidentEvent.action == "report",
                   _between(IncidentEvent.at, start, end), Account.worker_code.is_not(None))
            .order_by(Incident.id))
    return [Found(code, incident_id, category, grid, at)
            for code, incident_id, category, grid, at in session.execute(stmt)
            if code is not None]


def _escalated_from() -> ScalarSelect[str]:
    """The grid worker an incident was first handed up from (its deadline missed)."""
    step = aliased(IncidentEvent)  # the outer query reads the closes
    return (select(step.before["assignee_code"].astext)
            .where(step.incident_id == Incident.id, step.action == "escalate",
                   step.before["assignee_type"].astext == "grid_worker")
            .order_by(step.seq).limit(1).correlate(Incident).scalar_subquery())


def closed_assigned(session: Session, *, start: datetime, end: datetime) -> list[Closed]:
    """Incidents a grid worker held whose (last) close falls within [start, end): assigned to
    them when closed, or escalated away from them (overdue, it counts against them)."""
    closed_at = func.max(IncidentEvent.at)
    holder = func.coalesce(
        case((Incident.assignee_type == "grid_worker", Incident.assignee_code)),
        _escalated_from())
    stmt = (select(holder, Incident.id, closed_at, Incident.due_at, Incident.overdue_since,
                   closed_on_time(closed_at))
            .join(IncidentEvent, IncidentEvent.incident_id == Incident.id)
            .where(or_(Incident.assignee_type == "grid_worker", Incident.escalation_level > 0),
                   Incident.status == "closed", IncidentEvent.action == "close")
            .group_by(Incident.id)
            .having(_between(closed_at, start, end))
            .order_by(Incident.id))
    return [Closed(code, incident_id, at, due, missed, bool(on_time))
            for code, incident_id, at, due, missed, on_time in session.execute(stmt)
            if code is not None]


def returns(session: Session, *, start: datetime,
            end: datetime) -> list[tuple[str, int, datetime]]:
    """(worker, incident, when) for each return by a worker's account within [start, end)."""
    stmt = (select(Account.worker_code, IncidentEvent.incident_id, IncidentEvent.at)
            .join(Account, Account.username == IncidentEvent.actor)
            .where(IncidentEvent.action == "return", _between(IncidentEvent.at, start, end),
                   Account.worker_code.is_not(None))
            .order_by(IncidentEvent.at))
    return [(code, incident_id, at) for code, incident_id, at in session.execute(stmt)
            if code is not None]


def spot_checks(session: Session, *, start: datetime, end: datetime,
                worker: str | None = None) -> list[SpotCheck]:
    """Spot checks made within [start, end), of one worker when given, oldest first."""
    stmt = select(SpotCheck).where(_between(SpotCheck.checked_at, start, end),
                                   SpotCheck.worker_code == worker if worker else true())
    return list(session.scalars(stmt.order_by(SpotCheck.checked_at, SpotCheck.id)))


def grid_outline(session: Session, *, code: str, at: datetime) -> str | None:
    """A worker's home grid as `home_grids` finds it, as GeoJSON text."""
    grid = home_grids(at).where(GridVersion.code == code).subquery()
    return session.scalar(select(gfn.ST_AsGeoJSON(grid.c.geom, COORDINATE_DECIMALS, 0)))


def worker_tracks(session: Session, *, code: str, start: datetime,
                  end: datetime) -> list[tuple[int, datetime, str]]:
    """(id, started_at, GeoJSON line) of a worker's tracks started within [start, end)."""
    line = gfn.ST_AsGeoJSON(PatrolTrack.geom, COORDINATE_DECIMALS, 0)
    stmt = (select(PatrolTrack.id, PatrolTrack.started_at, line)
            .join(Account, Account.id == PatrolTrack.account_id)
            .where(track_owner == code, _between(PatrolTrack.started_at, start, end))
            .order_by(PatrolTrack.started_at, PatrolTrack.id))
    return [(track_id, at, geom) for track_id, at, geom in session.execute(stmt)]
