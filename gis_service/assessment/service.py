"""Assessment use cases: score every grid worker's month, one worker with the map of their
walks, the league table as CSV, and spot checks."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.assessment import queries
from gis_service.assessment.models import SpotCheck
from gis_service.assessment.schemas import SpotCheckCreate, WorkerMap, WorkerScore
from gis_service.assessment.scheme import Scheme
from gis_service.assessment.scoring import WorkerFacts, ranked, score_worker
from gis_service.auth.models import Account
from gis_service.auth.permissions import CENTER, OVERSEERS
from gis_service.auth.service import Principal
from gis_service.errors import ForbiddenError, InvalidInputError, NotFoundError
from gis_service.incidents.scope import CENTER_STAFF
from gis_service.patrols.service import month_bounds
from gis_service.people.service import workers_in
from gis_service.timeutil import aware


def _own_code(session: Session, principal: Principal) -> str | None:
    """The worker a grid worker's account is linked to."""
    return session.scalar(select(Account.worker_code).where(Account.id == principal.account_id))


def visible_workers(session: Session, principal: Principal) -> set[str] | None:
    """The worker codes the caller may see (None: all): a town center its town's, the county
    center its towns'; 403 for roles outside the center."""
    if principal.role in CENTER_STAFF and principal.scope_code:
        return workers_in(session, principal.scope_code, datetime.now(UTC))
    if principal.role in OVERSEERS:
        return None
    if principal.role == "grid_worker":
        own = _own_code(session, principal)
        return {own} if own else set()
    raise ForbiddenError(f"a {principal.role} does not see grid workers' assessments")


def _month(month: str, now: datetime) -> tuple[datetime, datetime, datetime]:
    start, end = month_bounds(month)
    return start, end, min(end - timedelta(microseconds=1), now)  # grids the month ended with


def _facts(session: Session, *, start: datetime, end: datetime, grids_at: datetime,
           buffer_m: float) -> dict[str, WorkerFacts]:
    facts: dict[str, WorkerFacts] = defaultdict(WorkerFacts)
    for code, cover in queries.coverage(session, start=start, end=end, grids_at=grids_at,
                                        buffer_m=buffer_m).items():
        facts[code].coverage = cover
    for code, day, source in queries.active_days(session, start=start, end=end):
        facts[code].days[day].add(source)
    for report in queries.found_on_patrol(session, start=start, end=end):
        facts[report.worker_code].found.append(report)
    for closed in queries.closed_assigned(session, start=start, end=end):
        facts[closed.worker_code].closed.append(closed)
    for code, incident_id, at in queries.returns(session, start=start, end=end):
        facts[code].returns.append((incident_id, at))
    for check in queries.spot_checks(session, start=start, end=end):
        facts[check.worker_code].checks.append(check)
    return facts


def assess_month(session: Session, *, month: str, principal: Principal, scheme: Scheme,
                 buffer_m: float, now: datetime) -> list[WorkerScore]:
    """Every grid worker's score of a month the caller may see, ranked among all workers."""
    allowed = visible_workers(session, principal)
    start, end, grids_at = _month(month, now)
    facts = _facts(session, start=start, end=end, grids_at=grids_at, buffer_m=buffer_m)
    scores = ranked([score_worker(scheme, worker, facts[worker.code], buffer_m)
                     for worker in queries.grid_workers(session)])
    return [s for s in scores if allowed is None or s.worker_code in allowed]


def assess_worker(session: Session, *, month: str, principal: Principal, code: str,
                  scheme: Scheme, buffer_m: float, now: datetime) -> WorkerScore:
    """One grid worker's score with its explanation; 404 when unknown or not the caller's."""
    for score in assess_month(session, month=month, principal=principal, scheme=scheme,
                              buffer_m=buffer_m, now=now):
        if score.worker_code == code:
            return score
    raise NotFoundError(f"no grid worker {code!r} you may see")


def worker_map(session: Session, *, month: str, code: str, now: datetime) -> WorkerMap:
    """The worker's home grid and their tracks of the month, as GeoJSON geometries."""
    start, end, grids_at = _month(month, now)
    worker = next(iter(queries.grid_workers(session, code=code)), None)
    outline = (queries.grid_outline(session, code=worker.grid_code, at=grids_at)
               if worker is not None and worker.grid_code else None)
    tracks = [{"id": track_id, "started_at": at.isoformat(), "geometry": json.loads(line)}
              for track_id, at, line in queries.worker_tracks(session, code=code, start=start,
                                                              end=end)]
    return WorkerMap(grid=json.loads(outline) if outline else None, tracks=tracks)


CSV_COLUMNS = ("rank", "worker_code", "worker_name", "grid_code", "coverage_share",
               "days_active", "events_found", "events_weighted", "closed", "closed_on_time",
               "on_time_rate", "returns", "spot_checks", "spot_pass_rate", "spot_mean_score")


def league_csv(scores: list[WorkerScore]) -> str:
    """The league table as CSV: the measures, each item's points, the total."""
    items = [entry.item for entry in scores[0].explain] if scores else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_COLUMNS, *(f"points_{item}" for item in items), "total"])
    for score in scores:
        row = score.model_dump()
        writer.writerow([*("" if row[c] is None else row[c] for c in CSV_COLUMNS),
                         *(entry.points for entry in score.explain), score.total])
    return out.getvalue()


def add_spot_check(session: Session, *, principal: Principal, body: SpotCheckCreate,
                   now: datetime) -> SpotCheck:
    """Record a spot check of a grid worker (command center roles only)."""
    if principal.role not in CENTER:
        raise ForbiddenError(f"a {principal.role} does not record spot checks")
    check = record_spot_check(session, checker=principal.username, body=body, now=now)
    session.commit()
    return check


def record_spot_check(session: Session, *, checker: str, body: SpotCheckCreate,
                      now: datetime) -> SpotCheck:
    """Store a spot check made by `checker` (a user name): of a grid worker, not ahead of
    `now`."""
    worker = next(iter(queries.grid_workers(session, code=body.worker_code)), None)
    if worker is None:
        raise InvalidInputError(f"no grid worker {body.worker_code!r}")
    checked_at = aware(body.checked_at) or now
    if checked_at > now + timedelta(minutes=5):
        raise InvalidInputError("checked_at lies in the future")
    check = SpotCheck(worker_code=worker.code, grid_code=worker.grid_code,
                      checked_at=checked_at, checker=checker, passed=body.passed,
                      score=body.score, note=body.note, created_at=now)
    session.add(check)
    session.flush()
    return check


def list_spot_checks(session: Session, *, principal: Principal, month: str,
                     worker: str | None) -> list[SpotCheck]:
    """A month's spot checks the caller may see, of one worker when given."""
    allowed = visible_workers(session, principal)
    start, end = month_bounds(month)
    checks = queries.spot_checks(session, start=start, end=end, worker=worker)
    return [c for c in checks if allowed is None or c.worker_code in allowed]
