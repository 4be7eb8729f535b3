"""Editing a draft's grids with an undo log: every grid an edit touches is snapshotted first
(exact WKB, every column), and undo writes the snapshots back. Every edit ends noded: a grid
whose edge holds a vertex of a reshaped grid takes that vertex too (and the other way round),
so what a plan stores, validates, publishes and exports shares its edges vertex for vertex."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.errors import ConflictError, ForbiddenError, NotFoundError
from gis_service.plans import queries
from gis_service.plans.drafts import as_stored, plan_grids, shape_of
from gis_service.plans.models import Plan, PlanEdit, PlanGrid
from gis_service.plans.wording import out_of_scope
from grid_layers.plan_edits import node

# columns a snapshot keeps besides code and geometry
_COLUMNS = ("name", "level", "kind", "parent_code", "households", "population", "multipart",
            "attributes", "source_version_id", "edited_by")


def snapshot(code: str, grid: PlanGrid | None) -> dict[str, Any]:
    """A grid row as JSON: every column, the geometry as hex WKB (exact to the bit), or a
    marker that no grid had this code."""
    if grid is None:
        return {"code": code, "exists": False}
    row = {name: getattr(grid, name) for name in _COLUMNS}
    return {"code": code, "exists": True, **row, "attributes": dict(grid.attributes),
            "edited_at": grid.edited_at.isoformat(),
            "geometry_wkb": shapely.to_wkb(shape_of(grid), hex=True)}


def _restore(grid: PlanGrid, saved: dict[str, Any]) -> None:
    for name in _COLUMNS:
        setattr(grid, name, saved[name])
    grid.edited_at = datetime.fromisoformat(saved["edited_at"])
    grid.geom = from_shape(shapely.from_wkb(saved["geometry_wkb"]), srid=4490)


class Edit:
    """One edit of a draft in progress: the plan's grids by code; each grid is snapshotted the
    first time the edit touches it, and finish() writes the log row and moves the version.

    `scope` is the planner's: a town's code lets the edit change that town's grids only
    (not its outline); the county grid's code, the grids of every town of the county and
    their outlines; None, everything. finish() refuses (ForbiddenError) an edit that reached
    further, before anything is committed."""

    def __init__(self, session: Session, plan: Plan, *, actor: str, now: datetime,
                 scope: str | None = None) -> None:
        self.session, self.plan, self.actor, self.now = session, plan, actor, now
        self.grids = {g.code: g for g in plan_grids(session, plan.id)}
        self.before: dict[str, dict[str, Any]] = {}
        self.reshaped: set[str] = set()  # grids given a new geometry, to node at the end
        self.scope = scope

    def may_change(self, code: str) -> bool:
        """Whether the edit's scope reaches the grid as it is now (a new code: yes)."""
        place = self._place(code)
        return place is None or self._reaches(*place)

    def _reaches(self, level: int | None, parent_code: str | None) -> bool:
        """Whether the scope reaches a grid of this level under this parent."""
        if self.scope is None:
            return True
        if level == 0:
            return False  # the county itself: unscoped planners only
        if level == 1:
            return parent_code == self.scope  # a town outline: its county's planners
        return self._town_of(parent_code) in self._reach()

    def _place(self, code: str | None) -> tuple[int | None, str | None] | None:
        """A grid's (level, parent): as the edit has made it, else as it was before."""
        grid = self.grids.get(code or "")
        if grid is not None:
            return grid.level, grid.parent_code
        was = self.before.get(code or "")
        return (was["level"], was["parent_code"]) if was and was["exists"] else None

    def _reach(self) -> set[str]:
        """The scope's own code and, for a county, every town under it."""
        return {self.scope or ""} | {c for c, g in self.grids.items()
                                     if g.level == 1 and g.parent_code == self.scope}

    def _town_of(self, code: str | None) -> str | None:
        """The town (or county) a chain of parents leads up to."""
        for _ in range(4):  # county, town, village, grid: a longer chain is a loop
            place = self._place(code)
            if place is None:
                return None
            if place[0] in (0, 1):
                return code
            code = place[1]
        return None

    def _check_scope(self) -> None:
        """Every grid the edit touched, as it was and as it is, within the scope."""
        for code, was in self.before.items():
            before_ok = not was["exists"] or self._reaches(was["level"], was["parent_code"])
            if not (before_ok and self.may_change(code)):
                raise ForbiddenError(out_of_scope(code, self.scope))

    def grid(self, code: str) -> PlanGrid:
        """A grid of the plan; 404 when it has none with this code."""
        if code not in self.grids:
            raise NotFoundError(f"方案 {self.plan.id} 中没有网格 {code}")
        return self.grids[code]

    def shape(self, code: str) -> BaseGeometry:
        """A grid's geometry (lon/lat)."""
        return shape_of(self.grid(code))

    def _touch(self, code: str) -> None:
        if code not in self.before:
            self.before[code] = snapshot(code, self.grids.get(code))

    def put(self, code: str, geometry: BaseGeometry | None = None, **fields: Any) -> PlanGrid:
        """Create the grid or change its fields (and geometry when given)."""
        self._touch(code)
        grid = self.grids.get(code)
        if grid is None:
            grid = PlanGrid(plan_id=self.plan.id, code=code, attributes={}, multipart=False,
                            source_version_id=None)
            self.session.add(grid)
            self.grids[code] = grid
        for name, value in fields.items():
            setattr(grid, name, value)
        if geometry is not None:
            grid.geom = as_stored(geometry)
            self.reshaped.add(code)
        grid.edited_at, grid.edited_by = self.now, self.actor
        return grid

    def delete(self, code: str) -> None:
        """Remove the grid (flushed at once, so its code may be used again in this edit)."""
        self._touch(code)
        self.session.delete(self.grid(code))
        del self.grids[code]
        self.reshaped.discard(code)
        self.session.flush()

    def finish(self, operation: str, detail: dict[str, Any]) -> PlanEdit:
        """Node the reshaped grids with those they touch, log the edit with its snapshots and
        move the plan's version on. ForbiddenError when the edit reached beyond the scope
        (checked before noding: a neighbour across the scope's edge takes the shared
        vertices too, its shape unchanged)."""
        self._check_scope()
        self._node()
        edit = PlanEdit(plan_id=self.plan.id, seq=queries.next_seq(self.session, self.plan.id),
                        at=self.now, actor=self.actor, operation=operation, detail=detail,
                        before=list(self.before.values()), undone=False)
        self.session.add(edit)
        self.plan.version += 1
        self.plan.updated_at = self.now
        self.session.flush()
        return edit

    def _node(self) -> None:
        """Neighbours take the reshaped grids' vertices on their edges, and the other way
        round (snapshotted like any grid the edit touches, so undo restores them too)."""
        if not self.reshaped:
            return
        shapes = {code: shape_of(grid) for code, grid in self.grids.items()}
        for code, geometry in node(shapes, self.reshaped).items():
            self.put(code, geometry)


def undo(session: Session, plan: Plan, *, now: datetime) -> PlanEdit:
    """Put the grids the newest live edit touched back as they were; 409 if none is left."""
    edit = queries.last_edit(session, plan.id)
    if edit is None:
        raise ConflictError("没有可撤销的修改")
    grids = {g.code: g for g in plan_grids(session, plan.id)}
    for saved in edit.before:
        if not saved["exists"] and saved["code"] in grids:
            session.delete(grids.pop(saved["code"]))
    session.flush()  # deletions first: a code may come back in the same undo
    for saved in edit.before:
        if saved["exists"]:
            grid = grids.get(saved["code"])
            if grid is None:
                grid = PlanGrid(plan_id=plan.id, code=saved["code"])
                session.add(grid)
            _restore(grid, saved)
    edit.undone = True
    plan.version += 1
    plan.updated_at = now
    session.flush()
    return edit
