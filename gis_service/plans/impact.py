"""What a plan would move against the boundaries of a moment: grids new, changed or deleted,
and the address points, incidents, workers and memberships that change grid.

Only points inside the changed area can change grid: the union of, per touched grid, the
symmetric difference of its old and new shapes (the whole shape for a new or deleted grid, or
for one whose level or kind changes). Each side is then a spatial join in PostGIS restricted
to that area, so the cost follows the size of the change, not of the county.

Incidents: `open_incidents` are those in an open state; `incidents` are all incidents of all
time (open ones included). Workers: grid workers whose home grid is deleted (`workers_out`)
or whose home grid changes shape or attributes (`workers_affected`). Memberships: the
districts and special grids a level-3 grid shares ground with (over 1 m²).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service import sql_files
from gis_service.errors import NotFoundError
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import current_versions
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.people.models import Worker
from gis_service.plans.drafts import plan_grids, shape_of
from gis_service.plans.metrics import SQL, get_plan
from gis_service.plans.models import PlanGrid

MEMBERSHIPS = sql_files.load(SQL, "impact_memberships")
# the point sets a plan may move, as (id, geom) subqueries; fixed text, never user input
POINT_SOURCES = {
    "address_points": "SELECT id, geom FROM address_point",
    "open_incidents": "SELECT id, geom FROM incident WHERE geom IS NOT NULL "
                      "AND status = ANY(CAST(:open_states AS text[]))",
    "incidents": "SELECT id, geom FROM incident WHERE geom IS NOT NULL",
}
POINT_QUERIES = {kind: sql_files.load(SQL, "impact_points", points=sql)
                 for kind, sql in POINT_SOURCES.items()}
KINDS = (*POINT_SOURCES, "workers", "memberships")
GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid, to well under a millimetre
LAYER_NAMES = {"1": "town", "2": "grid2", "3": "grid3", "special": "special"}


@dataclass
class PlanDiff:
    """How a plan's grids differ from a set of grid versions, and where points may move."""

    new: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # code -> what: shape, ...
    deleted: list[str] = field(default_factory=list)
    area: BaseGeometry = field(default_factory=shapely.GeometryCollection)

    @property
    def touched(self) -> list[str]:
        """Codes of every grid that is new, changed or deleted."""
        return sorted({*self.new, *self.changed, *self.deleted})

    def listing(self) -> list[dict[str, Any]]:
        """The touched grids with their kind of change."""
        items = [{"code": c, "change": "new", "what": []} for c in self.new]
        items += [{"code": c, "change": "changed", "what": w} for c, w in self.changed.items()]
        items += [{"code": c, "change": "deleted", "what": []} for c in self.deleted]
        return sorted(items, key=lambda item: str(item["code"]))


def version_fields(grid: PlanGrid) -> dict[str, Any]:
    """A plan grid's fields as a grid version stores them."""
    attributes = dict(grid.attributes)
    if grid.multipart:
        attributes["multipart"] = True
    elif not attributes.get("multipart", False):
        attributes.pop("multipart", None)
    return {"name": grid.name, "level": grid.level, "kind": grid.kind,
            "parent_code": grid.parent_code, "households": grid.households,
            "population": grid.population, "attributes": attributes}


def _version_shape(version: GridVersion) -> BaseGeometry:
    return shapely.from_wkb(bytes(version.geom.data))


def _same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=0.0))


def diff_plan(grids: list[PlanGrid], versions: list[GridVersion]) -> PlanDiff:
    """What differs between a plan's grids and the given versions (one per code)."""
    diff = PlanDiff()
    old = {v.code: v for v in versions}
    pieces: list[BaseGeometry] = []
    for grid in grids:
        shape, version = shape_of(grid), old.get(grid.code)
        if version is None:
            diff.new.append(grid.code)
            pieces.append(shape)
            continue
        before = _version_shape(version)
        what = [] if _same_shape(shape, before) else ["shape"]
        fields = version_fields(grid)
        if any(getattr(version, name) != value for name, value in fields.items()):
            what.append("attributes")
        if not what:
            continue
        diff.changed[grid.code] = what
        if (version.level, version.kind) != (grid.level, grid.kind):
            pieces += [shape, before]  # the whole grid changes layer
        elif "shape" in what:
            pieces.append(shapely.symmetric_difference(shape, before))
    in_plan = {g.code for g in grids}
    for code in sorted(set(old) - in_plan):
        diff.deleted.append(code)
        pieces.append(_version_shape(old[code]))
    if pieces:
        diff.area = shapely.union_all(pieces)
    return diff


def point_moves(session: Session, *, kind: str, plan_id: int, diff: PlanDiff,
                at: datetime) -> list[tuple[str, str, str | None, str | None]]:
    """(id, layer, grids at `at`, grids in the plan) of each point of `kind` that moves."""
    if diff.area.is_empty:
        return []
    params = {"area": shapely.to_wkb(diff.area), "touched": diff.touched, "plan_id": plan_id,
              "at": at, "open_states": sorted(OPEN_STATES)}
    rows = session.execute(POINT_QUERIES[kind], params)
    return [(row.id, LAYER_NAMES[row.layer], row.old, row.new) for row in rows]


def membership_changes(session: Session, *, plan_id: int, area: BaseGeometry,
                       at: datetime) -> list[tuple[str, str, str, str]]:
    """(level-3 grid, district|special, member code, joined|left) for each change."""
    if area.is_empty:
        return []
    rows = session.execute(MEMBERSHIPS, {"area": shapely.to_wkb(area), "plan_id": plan_id,
                                         "at": at})
    return [(r.code, r.kind, r.member, r.change) for r in rows]


def worker_changes(session: Session, diff: PlanDiff) -> list[tuple[str, str, str, str, str]]:
    """(worker, name, old grid, new grid, why) for grid workers whose home grid is touched."""
    touched = [c for c in diff.touched if c not in diff.new]
    workers = session.scalars(select(Worker).where(Worker.grid_code.in_(touched))
                              .order_by(Worker.code))
    rows = []
    for worker in workers:
        code = worker.grid_code or ""
        if code in diff.deleted:
            rows.append((worker.code, worker.name, code, "", "grid deleted"))
        else:
            rows.append((worker.code, worker.name, code, code,
                         "grid " + " and ".join(diff.changed[code]) + " changed"))
    return rows


def _diff_now(session: Session, plan_id: int, at: datetime) -> PlanDiff:
    get_plan(session, plan_id)
    return diff_plan(plan_grids(session, plan_id), current_versions(session, at))


def plan_impact(session: Session, *, plan_id: int, at: datetime) -> dict[str, Any]:
    """Touched grids, per-grid counts of what moves in and out, and totals."""
    diff = _diff_now(session, plan_id, at)
    per_grid: dict[str, Counter[str]] = defaultdict(Counter)
    totals: dict[str, Any] = {"new": len(diff.new), "changed": len(diff.changed),
                              "deleted": len(diff.deleted)}
    for kind in POINT_SOURCES:
        moves = point_moves(session, kind=kind, plan_id=plan_id, diff=diff, at=at)
        totals[kind] = len({move[0] for move in moves})
        for _, _, old, new in moves:
            before, after = set((old or "").split(";")) - {""}, set((new or "").split(";")) - {""}
            for code in before - after:
                per_grid[code][f"{kind}_out"] += 1
            for code in after - before:
                per_grid[code][f"{kind}_in"] += 1
    workers = worker_changes(session, diff)
    for _, _, old_grid, new_grid, _ in workers:
        per_grid[old_grid]["workers_out" if not new_grid else "workers_affected"] += 1
    memberships = membership_changes(session, plan_id=plan_id, area=diff.area, at=at)
    for code, kind, _, change in memberships:
        name = ("special_" + ("in" if change == "joined" else "out") if kind == "special"
                else f"districts_{change}")
        per_grid[code][name] += 1
    totals["workers"], totals["memberships"] = len(workers), len(memberships)
    return {"at": at.isoformat(), "incident_window": "all time",
            "changed_grids": diff.listing(),
            "changed_area_m2": _area_m2(diff.area),
            "per_grid": {code: dict(sorted(c.items())) for code, c in sorted(per_grid.items())},
            "totals": totals}


def _area_m2(area: BaseGeometry) -> float:
    if area.is_empty:
        return 0.0
    return round(abs(GEOD.geometry_area_perimeter(area)[0]), 1)


def impact_csv(session: Session, *, plan_id: int, kind: str, at: datetime) -> str:
    """One kind's list as CSV text: what moves, from which grid to which."""
    if kind not in KINDS:
        raise NotFoundError(f"没有影响清单 {kind!r}；可选清单：{'、'.join(KINDS)}")
    diff = _diff_now(session, plan_id, at)
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]] = []
    if kind == "workers":
        header = ("code", "name", "old_grid", "new_grid", "change")
        rows += worker_changes(session, diff)
    elif kind == "memberships":
        header = ("grid_code", "kind", "member_code", "change")
        rows += membership_changes(session, plan_id=plan_id, area=diff.area, at=at)
    else:
        header = ("id", "layer", "old_grid", "new_grid")
        rows += point_moves(session, kind=kind, plan_id=plan_id, diff=diff, at=at)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
