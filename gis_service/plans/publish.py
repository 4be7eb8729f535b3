"""Publishing a plan: its changed grids become new immutable versions from `effective_from`,
incidents from then on (and open ones) take the new boundaries, and open incidents whose grid
changed keep their handler or are re-routed, as the publisher chose; the history says which.

Versions: for every new, changed or deleted grid the open-ended version is closed at
`effective_from` (the only update the immutability trigger allows) and, unless deleted, a
new version opens there; unchanged grids are left alone. `effective_from` must come after the
latest moment any version begins or ends, so published history is never rewritten. A
roll-back is a draft of an earlier moment published again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_service import locks, sql_files
from gis_service.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from gis_service.events import outbox
from gis_service.grids.models import GridVersion, LayerChange
from gis_service.incidents.core.assigning import assign
from gis_service.incidents.core.case import state_of
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.placing import BOUNDARY_FIELDS
from gis_service.incidents.core.routing import RoutingBook
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import Snapshot, load_routing_book
from gis_service.incidents.service import record
from gis_service.locate.service import load_layers
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.plans.drafts import as_record, plan_grids
from gis_service.plans.impact import PlanDiff, diff_plan, version_fields
from gis_service.plans.models import Plan, PlanGrid, PlanPublication
from gis_service.plans.schemas import ProblemRead
from gis_service.plans.wording import stale_version, status_name
from gis_service.timeutil import CHINA_TIME
from gis_service.unit_of_work import after_commit
from grid_layers.validation import Problem, validate_hierarchy

SQL = Path(__file__).parent / "sql"
LOCATE_MOVED = sql_files.load(SQL, "reattribute_locate")
REATTRIBUTE = sql_files.load(SQL, "reattribute")
OPEN_BEFORE = text("SELECT id, old_town AS town, old_grid2 AS grid2, old_grid3 AS grid3, "
                   "old_special AS special FROM reattributed "
                   "WHERE status = ANY(CAST(:open_states AS text[])) ORDER BY id")
BIG_WORK_MEM = "256MB"
POLICIES = ("keep", "reroute")
# states with a handler at work: a re-route hands them to the new grid's handler
REROUTABLE = frozenset({"dispatched", "accepted", "in_progress", "returned"})


def problem_json(problem: Problem) -> dict[str, Any]:
    """A validation problem as the API shows it (as GET /plans/{id}/validation does)."""
    return ProblemRead.of(problem).model_dump()


def publish_plan(session: Session, *, plan_id: int, actor: str, effective_from: datetime,
                 policy: str, expected_version: int, now: datetime,
                 then: Callable[[PlanPublication], None] | None = None) -> PlanPublication:
    """Make a valid draft live from `effective_from` and commit; `then` runs once it is
    stored (the service: this process's locator, the sweep of reports located meanwhile)."""
    if policy not in POLICIES:
        raise InvalidInputError(f"policy 须是 {'、'.join(POLICIES)} 之一")
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": locks.BOUNDARIES})
    # Without JIT until the caller's transaction ends: after the re-attribution's big UPDATE
    # the tile triggers on `incident` keep a plan costed for a million rows, and each open
    # incident's one-row update below would compile it again (~30 ms apiece).
    session.execute(text("SET LOCAL jit = off"))
    plan = _locked_draft(session, plan_id, expected_version)
    grids = plan_grids(session, plan_id)
    problems = validate_hierarchy([as_record(g) for g in grids]) if grids else []
    if problems or not grids:
        raise InvalidInputError("方案未通过校验：请先修正问题再发布",
                                problems=[problem_json(p) for p in problems])
    versions = list(session.scalars(select(GridVersion).where(GridVersion.valid_to.is_(None))
                                    .order_by(GridVersion.code)))
    # the latest moment any version begins or ends (a publication may close grids later)
    newest = session.scalar(select(func.max(func.greatest(
        GridVersion.valid_from, func.coalesce(GridVersion.valid_to, GridVersion.valid_from)))))
    if newest is not None and effective_from <= newest:
        raise ConflictError(f"生效时间须晚于 {newest.astimezone(CHINA_TIME):%Y-%m-%d %H:%M:%S}"
                            "（北京时间，最近一次发布的边界变更时刻）",
                            newest_valid_from=newest)
    diff = diff_plan(grids, versions)
    if not diff.touched:
        raise ConflictError("方案与现行边界相比没有任何变化")
    source = f"plan {plan.id}: {plan.name}"[:400]
    _write_versions(session, diff, grids, versions, effective_from, source)
    reattributed, open_rows = _reattribute(session, diff, effective_from,
                                           open_too=effective_from <= now,
                                           outer_touched=_outer_touched(diff, grids, versions))
    settled = settle_open(session, open_rows, policy=policy, actor=actor, now=now,
                           cause=RegridCause.publication(plan.id, effective_from))
    summary = {"new": len(diff.new), "changed": len(diff.changed), "deleted": len(diff.deleted),
               "unchanged": len(grids) - len(diff.new) - len(diff.changed),
               "grids": diff.listing(), "incidents_reattributed": reattributed,
               "open_incidents": len(open_rows), "open_kept": settled["kept"],
               "open_rerouted": settled["rerouted"],
               "open_deferred": effective_from > now}
    session.add(LayerChange(kind="grids", source=source,
                            summary={k: v for k, v in summary.items() if k != "grids"}))
    publication = PlanPublication(plan_id=plan.id, effective_from=effective_from,
                                  published_at=now, published_by=actor, policy=policy,
                                  summary=summary)
    session.add(publication)
    plan.status, plan.version, plan.updated_at = "published", plan.version + 1, now
    outbox.publish_plan(session, plan_id=plan.id, at=now, body={
        "id": plan.id, "name": plan.name, "effective_from": effective_from.isoformat(),
        "published_by": actor, "policy": policy, "summary": summary})
    if then is not None:
        after_commit(session, partial(then, publication))
    session.commit()
    return publication


def _locked_draft(session: Session, plan_id: int, expected_version: int) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.id == plan_id).with_for_update()
                          .execution_options(populate_existing=True))
    if plan is None:
        raise NotFoundError(f"没有方案 {plan_id}")
    if plan.version != expected_version:
        raise PreconditionFailedError(stale_version(plan.version, expected_version),
                                      version=plan.version)
    if plan.status != "draft":
        raise ConflictError(f"方案 {plan_id} {status_name(plan.status)}：只有草稿可以发布")
    return plan


def _write_versions(session: Session, diff: PlanDiff, grids: list[PlanGrid],
                    versions: list[GridVersion], effective_from: datetime, source: str) -> None:
    """Close the touched grids' open versions, then open the new ones (in that order: two
    versions of a code may never be valid at once)."""
    open_by_code = {v.code: v for v in versions}
    for code in diff.touched:
        if code in open_by_code:
            open_by_code[code].valid_to = effective_from
    session.flush()
    latest: dict[str, int] = {code: number for code, number in session.execute(
        select(GridVersion.code, func.max(GridVersion.version))
        .where(GridVersion.code.in_(diff.new)).group_by(GridVersion.code))}
    for grid in grids:
        if grid.code not in diff.changed and grid.code not in diff.new:
            continue
        current = open_by_code.get(grid.code)
        number = current.version + 1 if current else latest.get(grid.code, 0) + 1
        session.add(GridVersion(code=grid.code, version=number, geom=grid.geom,
                                valid_from=effective_from, source=source,
                                **version_fields(grid)))
    session.flush()


def _reattribute(session: Session, diff: PlanDiff, effective_from: datetime, *,
                 open_too: bool, outer_touched: bool) -> tuple[int, list[dict[str, Any]]]:
    """Incidents in the changed area take the new grids' codes: found into a temporary table,
    then written by one UPDATE in id order. The count, and the open ones' codes before."""
    if diff.area.is_empty:
        return 0, []
    # Bitmap scans: a fresh grid holding tens of thousands of incidents reads each heap page
    # once and in order, not once per incident. Memory: the sorts of a million candidates stay
    # off disk, and the tile trigger's tables of the rows before and after spill less.
    with _settings(session, enable_indexscan="off", work_mem=BIG_WORK_MEM):
        session.execute(LOCATE_MOVED, {
            "area": shapely.to_wkb(diff.area), "fresh": [*diff.new, *diff.changed],
            "touched": diff.touched, "outer_touched": outer_touched,
            "effective_from": effective_from, "open_too": open_too,
            "open_states": sorted(OPEN_STATES)})
    session.execute(text("ANALYZE reattributed"))  # the UPDATE's plan depends on how many
    with _settings(session, work_mem=BIG_WORK_MEM):
        changed = session.execute(REATTRIBUTE).rowcount  # type: ignore[attr-defined]
    open_rows = [dict(row._mapping) for row in session.execute(OPEN_BEFORE, {
        "open_states": sorted(OPEN_STATES)})]
    session.execute(text("DROP TABLE reattributed"))  # a second publish in this transaction
    return int(changed), open_rows


@contextmanager
def _settings(session: Session, **values: str) -> Iterator[None]:
    """Settings for the statements inside, as they were afterwards (within the transaction)."""
    previous = {name: session.scalar(text("SELECT current_setting(:name)"), {"name": name})
                for name in values}
    for name, value in values.items():
        session.execute(text("SELECT set_config(:name, :value, true)"),
                        {"name": name, "value": value})
    yield
    for name, value in previous.items():
        session.execute(text("SELECT set_config(:name, :value, true)"),
                        {"name": name, "value": value})


def _outer_touched(diff: PlanDiff, grids: list[PlanGrid], versions: list[GridVersion]) -> bool:
    """True when a touched grid is the county, a town or a special grid (before or after):
    only those can give up ground that no fresh version takes."""
    levels = [*((v.code, v.level) for v in versions), *((g.code, g.level) for g in grids)]
    touched = set(diff.touched)
    return any(level in (0, 1, None) for code, level in levels if code in touched)


@dataclass(frozen=True)
class RegridCause:
    """Why open incidents' grids changed, as their history rows say: the detail's first keys
    and the note's opening words (a publication and its sweep; `gis-service relocate`)."""

    detail: dict[str, Any]
    note: str

    @classmethod
    def publication(cls, plan_id: int, effective_from: datetime) -> RegridCause:
        """A plan published from `effective_from`."""
        return cls({"plan_id": plan_id, "effective_from": effective_from.isoformat()},
                   f"网格调整(方案 {plan_id}):")


def settle_open(session: Session, rows: list[dict[str, Any]], *, policy: str, actor: str,
                 now: datetime, cause: RegridCause) -> Counter[str]:
    """A history row for each open incident whose grid changed (`rows`: id and the codes
    before, by field): handler kept or re-routed."""
    settled: Counter[str] = Counter(kept=0, rerouted=0)
    if not rows:
        return settled
    before_codes = {row["id"]: row for row in rows}
    incidents = session.scalars(select(Incident).where(Incident.id.in_(before_codes))
                                .order_by(Incident.id).with_for_update()
                                .execution_options(populate_existing=True))
    router = _Rerouter(session, now) if policy == "reroute" else None
    for incident in incidents:
        old = before_codes[incident.id]
        before = {**state_of(incident), "grid3": old["grid3"]}
        detail: dict[str, Any] = {
            **cause.detail, "policy": policy,
            "from": {field: old[field] for field, _ in BOUNDARY_FIELDS},
            "to": {field: getattr(incident, column) for field, column in BOUNDARY_FIELDS}}
        note = cause.note
        if router is not None and router.reroute(incident, detail):
            settled["rerouted"] += 1
            note += "按新网格重新派遣"
        else:
            settled["kept"] += 1
            detail.setdefault("handler", "kept")
            note += "处置人不变"
        incident.updated_at = now
        record(session, incident, actor=actor, action="regrid", at=now, before=before,
               note=note, detail=detail)
    session.flush()
    return settled


class _Rerouter:
    """Routes open incidents by the routing book at their place in the new boundaries."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.book: RoutingBook = load_routing_book(session)
        self.snapshot: Snapshot = LocatorSnapshot(load_layers(session, now))
        self.now = now

    def reroute(self, incident: Incident, detail: dict[str, Any]) -> bool:
        """Hand the incident to the new place's handler; False (and why) when it stays."""
        located = (self.snapshot.where(incident.lon, incident.lat or 0.0)
                   if incident.lon is not None else None)
        # the duty of the town the incident lies in under the new boundaries
        rule = self.book.rule(incident.category_code,
                              located.town if located is not None else incident.town_code)
        if incident.status not in REROUTABLE or rule is None or located is None:
            detail["handler"] = "kept"
            detail["why"] = (f"not re-routed: {incident.status}" if rule is not None
                             else "not re-routed: category without a routing rule")
            return False
        if not located.in_service_area:
            detail["handler"], detail["why"] = "kept", "not re-routed: outside the town"
            return False
        assignment = self.book.handler(located, rule)
        if (assignment.type, assignment.code) == (incident.assignee_type,
                                                   incident.assignee_code):
            detail["handler"], detail["why"] = "kept", "the new grid has the same handler"
            return False
        assign(incident, assignment, rule, self.now)
        incident.status = "dispatched"
        incident.version += 1
        detail.update({"handler": "rerouted",
                       "assignee": f"{assignment.type}:{assignment.code}",
                       "auto": True, "routing": assignment.why})
        return True
