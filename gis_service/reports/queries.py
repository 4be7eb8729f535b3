"""The reports' SQL: one statement per figure group, each under the caller's scope and the
area's condition. Incidents are found by `reported_at` (its index) and closures by the
history's partial index on `close`; a step's time is read from the history, never guessed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.sql.expression import ColumnClause

from gis_service.geojson import geometry_json
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.incidents.core.deadlines import closed_on_time
from gis_service.incidents.core.lifecycle import OPEN_STATES, RESOLUTIONS
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.incidents.queries import in_grid
from gis_service.people.models import Department
from gis_service.places.models import District
from gis_service.responsibilities.models import Category

Rows = Select[*tuple[Any, ...]]
OPEN = sorted(OPEN_STATES)
# constants of the schema, written into the SQL so the planner can match partial indexes and
# group by the very same expression it selects
CHINA_ZONE: ColumnClause[Any] = literal_column("'Asia/Shanghai'")
CLOSE: ColumnClause[Any] = literal_column("'close'")
# ~50 m in degrees of latitude; east–west it is ~43 m at the towns' 31°N: "about 50 m"
REPEAT_EPS_DEGREES = 50 / 111_320
REPEAT_MIN_REPORTS = 3
REPEAT_LIMIT = 10
RATINGS = (1, 2, 3, 4, 5)


def grid_area(code: str) -> Rows:
    """The newest version of a grid: code, name, level (a retired grid still has reports)."""
    return (select(GridVersion.code, GridVersion.name, GridVersion.level)
            .where(GridVersion.code == code).order_by(GridVersion.valid_from.desc()).limit(1))


def district_area(code: str) -> Rows:
    """An enforcement district's code and name."""
    return select(District.code, District.name).where(District.code == code)


def scope_name(code: str) -> Rows:
    """What an account's scope code names: (name, kind) of the grid (newest version), the
    district (by its code or its squad's) or the department, in that order."""
    grid = (select(GridVersion.name, literal("grid").label("kind"), literal(0).label("rank"))
            .where(GridVersion.code == code).order_by(GridVersion.valid_from.desc()).limit(1))
    district = select(District.name, literal("district"), literal(1)).where(
        or_(District.code == code, District.squad_code == code)).limit(1)
    department = select(Department.name, literal("department"), literal(2)).where(
        Department.code == code)
    found = union(grid, district, department).subquery()
    return select(found.c.name, found.c.kind).order_by(found.c.rank).limit(1)


def towns(at: datetime) -> Rows:
    """The towns and counties (level 0 and 1 grids) valid at `at`: code, name, level."""
    return (select(GridVersion.code, GridVersion.name, GridVersion.level)
            .where(GridVersion.level.in_((0, 1)), valid_at(at)).order_by(GridVersion.code))


def in_area(kind: str, code: str, level: int | None) -> ColumnElement[bool]:
    """Incidents inside the area (a district, or a grid of any level)."""
    if kind == "district":
        return Incident.district_code == code
    return in_grid(code, level)


def _reported_in(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Incident.reported_at >= start, Incident.reported_at < end)


def intake(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Reports in the period counted by channel, by category, by China day and by level-3
    grid, in one pass (grouping sets): rows of (set, key, count)."""
    day = cast(func.timezone(CHINA_ZONE, Incident.reported_at), Date)
    which = case((func.grouping(Incident.source) == 0, "channel"),
                 (func.grouping(Incident.category_code) == 0, "category"),
                 (func.grouping(day) == 0, "day"), else_="grid3")
    key = func.coalesce(Incident.source, Incident.category_code, func.to_char(day, "YYYY-MM-DD"),
                        Incident.grid3_code)
    return (select(which, key, func.count())
            .where(scope, _reported_in(start, end))
            .group_by(func.grouping_sets(Incident.source, Incident.category_code, day,
                                         Incident.grid3_code)))


def counted_reports(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """How many reports came in the period."""
    return select(func.count()).select_from(Incident).where(scope, _reported_in(start, end))


def open_at(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """How many incidents were open at `start` and at `end`: reported before, and open now
    or closed for the last time at or after then. One pass over the closures since `start`."""
    open_now = (select(func.count().filter(Incident.reported_at < start), func.count())
                .where(scope, Incident.status.in_(OPEN), Incident.reported_at < end)
                .subquery("open_now"))
    closing = (select(IncidentEvent.incident_id, func.max(IncidentEvent.at).label("last"))
               .where(IncidentEvent.action == CLOSE, IncidentEvent.at >= start)
               .group_by(IncidentEvent.incident_id).subquery("closing"))
    later = (select(func.count().filter(Incident.reported_at < start),
                    func.count().filter(closing.c.last >= end))
             .select_from(closing).join(Incident, Incident.id == closing.c.incident_id)
             .where(scope, Incident.status == "closed", Incident.reported_at < end)
             .subquery("later"))
    now_c, later_c = list(open_now.c), list(later.c)
    return (select(now_c[0] + later_c[0], now_c[1] + later_c[1])
            .select_from(open_now.join(later, true())))  # one row each


def _steps(scope: ColumnElement[bool], start: datetime, end: datetime) -> Any:
    """Per incident reported or closed in the period: its deadlines and outcome, when it was
    first dispatched and accepted, last resolved and closed (before `end`), and its returns
    and escalations in the period. Both the closures' incidents and each incident's history
    are read through their indexes (LATERAL: the planner would rather scan whole tables)."""
    columns = (Incident.id, Incident.category_code, Incident.reported_at,
               Incident.respond_due_at, Incident.due_at, Incident.status, Incident.resolution,
               Incident.satisfaction)
    reported = select(*columns).where(scope, _reported_in(start, end))
    closing = (select(IncidentEvent.incident_id)
               .where(IncidentEvent.action == CLOSE, IncidentEvent.at >= start,
                      IncidentEvent.at < end).subquery("closing"))
    closed_one = (select(*columns).where(Incident.id == closing.c.incident_id, scope)
                  .limit(1).lateral("closed_one"))  # LIMIT keeps it a per-id index probe
    closed = select(*closed_one.c).select_from(closing.join(closed_one, true()))
    cohort = union(reported, closed).subquery("cohort")
    event = IncidentEvent

    def when(action: str, pick: Any) -> Any:
        return pick(event.at).filter(event.action == action)

    def counted(action: str) -> Any:
        return func.count().filter(event.action == action, event.at >= start)

    history = (select(when("dispatch", func.min).label("dispatched"),
                      when("accept", func.min).label("accepted"),
                      when("resolve", func.max).label("resolved"),
                      when("close", func.max).label("closed"),
                      counted("return").label("returns"),
                      counted("escalate").label("escalations"))
               .where(event.incident_id == cohort.c.id, event.at < end).lateral("history"))
    return (select(*cohort.c, *history.c).select_from(cohort.join(history, true()))
            .cte("steps"))


def _judged(done: Any, in_time: ColumnElement[bool], missed_before: Any, end: datetime,
            judged: ColumnElement[bool]) -> tuple[Any, Any]:
    """(on time, late) counts of a step: done `in_time`; late when done otherwise, or not
    done while its deadline was missed before `end` (`missed_before`: when it was, or None).
    Only incidents reported in the period that were not rejected are `judged`."""
    on_time = and_(judged, done.is_not(None), in_time)
    late = and_(judged, or_(and_(done.is_not(None), not_(in_time)),
                            and_(done.is_(None), missed_before < end)))
    return func.count().filter(on_time), func.count().filter(late)


def step_figures(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """On time per step, closures (on time, handling hours median and p90, the 721 counts,
    satisfaction), returns and escalations — per category and in total (rollup).

    Resolving and closing are on time by `deadlines.closed_on_time`: an incident that ever
    missed its deadline is late however long the deadline it was given afterwards."""
    steps = _steps(scope, start, end)
    s = steps.c
    judged = and_(s.reported_at >= start, s.status != "rejected")
    closed_in = s.closed >= start
    hours = func.extract("epoch", s.closed - s.reported_at) / 3600.0
    missed = func.coalesce(Incident.overdue_since, s.due_at)  # the first deadline missed
    columns: list[Any] = [func.grouping(s.category_code).label("total"), s.category_code]
    for done in (s.dispatched, s.accepted):
        in_time = or_(s.respond_due_at.is_(None), done <= s.respond_due_at)
        columns += _judged(done, in_time, s.respond_due_at, end, judged)
    for done in (s.resolved, s.closed):
        columns += _judged(done, closed_on_time(done), missed, end, judged)
    columns += [
        func.count().filter(closed_in),
        func.count().filter(closed_in, closed_on_time(s.closed)),
        func.percentile_cont(0.5).within_group(hours).filter(closed_in),
        func.percentile_cont(0.9).within_group(hours).filter(closed_in),
        *(func.count().filter(closed_in, s.resolution == r) for r in RESOLUTIONS),
        *(func.count().filter(closed_in, s.satisfaction == n) for n in RATINGS),
        func.coalesce(func.sum(s.returns), 0),
        func.coalesce(func.sum(s.escalations), 0),
    ]
    # the incident row again (by its key) for the rule's columns, read where it is written
    return (select(*columns).select_from(steps.join(Incident, Incident.id == s.id))
            .group_by(func.rollup(s.category_code)))


def closure_figures(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Closures of the period alone (for the comparison): how many, on time, handling hours
    median and p90, satisfaction sum and count — from the closures' index, no history walk."""
    closing = (select(IncidentEvent.incident_id, func.max(IncidentEvent.at).label("closed"))
               .where(IncidentEvent.action == CLOSE, IncidentEvent.at >= start,
                      IncidentEvent.at < end)
               .group_by(IncidentEvent.incident_id).subquery("closing"))
    one = (select(Incident.reported_at, Incident.satisfaction,
                  closed_on_time(closing.c.closed).label("on_time"))
           .where(Incident.id == closing.c.incident_id, scope).limit(1).lateral("one"))
    hours = func.extract("epoch", closing.c.closed - one.c.reported_at) / 3600.0
    return (select(func.count(),
                   func.count().filter(one.c.on_time),
                   func.percentile_cont(0.5).within_group(hours),
                   func.percentile_cont(0.9).within_group(hours),
                   func.sum(one.c.satisfaction), func.count(one.c.satisfaction))
            .select_from(closing.join(one, true())))


def without_jit() -> Any:
    """Switch JIT off for this transaction: the planner over-estimates these statements and
    compiling them took longer (~1 s) than running them."""
    return text("SET LOCAL jit = off")


def repeat_points(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Places reported again and again: DBSCAN clusters (eps ~50 m, at least 3 reports) of
    the period's placed reports; centre, count, spread, the commonest address and category."""
    cluster = func.ST_ClusterDBSCAN(Incident.geom, REPEAT_EPS_DEGREES,
                                    REPEAT_MIN_REPORTS).over().label("cluster")
    points = (select(Incident.lon, Incident.lat, Incident.address, Incident.category_code,
                     Incident.grid3_code, cluster)
              .where(scope, _reported_in(start, end), Incident.geom.is_not(None)).subquery())
    count = func.count()
    return (select(func.avg(points.c.lon), func.avg(points.c.lat), count,
                   func.mode().within_group(points.c.address),
                   func.mode().within_group(points.c.category_code),
                   func.mode().within_group(points.c.grid3_code),
                   func.max(points.c.lon) - func.min(points.c.lon),
                   func.max(points.c.lat) - func.min(points.c.lat))
            .where(points.c.cluster.is_not(None)).group_by(points.c.cluster)
            .having(count >= REPEAT_MIN_REPORTS).order_by(count.desc()).limit(REPEAT_LIMIT))


def repeat_addresses(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """Unplaced reports (hotline tickets carry an address only) repeated at one address."""
    address = func.btrim(Incident.address)
    count = func.count()
    return (select(address, count, func.mode().within_group(Incident.category_code))
            .where(scope, _reported_in(start, end), Incident.geom.is_(None),
                   Incident.address.is_not(None), address != "")
            .group_by(address).having(count >= REPEAT_MIN_REPORTS)
            .order_by(count.desc(), address).limit(REPEAT_LIMIT))


def category_names(codes: list[str]) -> Rows:
    """Names of the categories in the responsibility list."""
    return select(Category.code, Category.name).where(Category.code.in_(codes))


def grid_names(codes: list[str]) -> Rows:
    """The newest name of each grid (reports name grids as they are known now)."""
    return (select(GridVersion.code, GridVersion.name).where(GridVersion.code.in_(codes))
            .order_by(GridVersion.valid_from))  # read into a dict: the newest wins


def area_grids(kind: str | None, code: str | None, at: datetime) -> Rows:
    """The level-3 grids valid at `at` inside the area (a point on their surface in it), with
    their GeoJSON geometry; every level-3 grid when there is no area."""
    query = (select(GridVersion.code, GridVersion.name, geometry_json(GridVersion.geom))
             .where(GridVersion.level == 3, valid_at(at)).order_by(GridVersion.code))
    if kind == "district":
        outline = select(District.geom).where(District.code == code).scalar_subquery()
    elif kind == "grid":
        outline = (select(GridVersion.geom).where(GridVersion.code == code)
                   .order_by(GridVersion.valid_from.desc()).limit(1).scalar_subquery())
    else:
        return query
    return query.where(func.ST_Covers(outline, func.ST_PointOnSurface(GridVersion.geom)))
