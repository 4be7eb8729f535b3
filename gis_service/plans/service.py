"""Plan use cases: drafts, their grids, grid edits with snapping, undo and live validation.

Plans are for planners and admins; a commander may read them. Every edit names the plan's
version in If-Match, moves it on, writes one edit-log row and commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.auth.permissions import PLAN_EDITORS, PLAN_READERS, Role
from gis_service.auth.service import Principal
from gis_service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from gis_service.etag import parse_etag
from gis_service.plans import queries
from gis_service.plans.drafts import as_record, create_plan, plan_grids
from gis_service.plans.edits import Edit, undo
from gis_service.plans.models import Plan, PlanEdit, PlanGrid
from gis_service.plans.schemas import (
    GridFeature,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    ProblemRead,
    ValidationRead,
)
from gis_service.plans.wording import stale_version, status_name
from grid_layers import crs as crs_module
from grid_layers.hierarchy import COMPREHENSIVE, MAX_VERTICES_PER_GEOMETRY
from grid_layers.plan_edits import snap_to_neighbours
from grid_layers.repair import repair_hierarchy, repairable
from grid_layers.validation import validate_hierarchy
from grid_layers.wording import invalid_because


def _require(principal: Principal, roles: frozenset[Role]) -> None:
    if principal.role not in roles:
        raise ForbiddenError(f"当前角色无权{'编辑' if roles == PLAN_EDITORS else '查看'}边界方案")


def readable(session: Session, *, principal: Principal, plan_id: int) -> Plan:
    """A plan the caller may read; 403 for other roles, 404 when there is none."""
    _require(principal, PLAN_READERS)
    plan = queries.plan(session, plan_id)
    if plan is None:
        raise NotFoundError(f"没有方案 {plan_id}")
    return plan


def editable(session: Session, *, principal: Principal, plan_id: int,
             if_match: str | None) -> Plan:
    """A draft the caller may edit, locked, at the version If-Match names (428, 412, 409)."""
    _require(principal, PLAN_EDITORS)
    expected = parse_etag(if_match)
    plan = queries.plan(session, plan_id, lock=True)
    if plan is None:
        raise NotFoundError(f"没有方案 {plan_id}")
    if plan.version != expected:
        raise PreconditionFailedError(stale_version(plan.version, expected),
                                      version=plan.version)
    if plan.status != "draft":
        raise ConflictError(f"方案{status_name(plan.status)}；只有草稿可以编辑")
    return plan


def to_read(session: Session, plan: Plan, count: int | None = None) -> PlanRead:
    """The API view of a plan (its grids counted unless `count` is given)."""
    if count is None:
        count = queries.grid_counts(session, [plan.id]).get(plan.id, 0)
    return PlanRead(grid_count=count, **{name: getattr(plan, name) for name in (
        "id", "name", "note", "owner", "status", "based_on_at", "version", "created_at",
        "updated_at")})


def create(session: Session, *, principal: Principal, body: PlanCreate, now: datetime) -> Plan:
    """A new draft copying the boundaries valid at `body.at` (now by default)."""
    _require(principal, PLAN_EDITORS)
    if body.at is not None and body.at.tzinfo is None:
        raise InvalidInputError("`at` 须带时区，例如 2026-01-01T00:00:00+08:00")
    plan = create_plan(session, owner=principal.username, name=body.name, note=body.note,
                       at=body.at, now=now)
    session.commit()
    return plan


def list_plans(session: Session, *, principal: Principal) -> list[PlanRead]:
    """Every plan, newest first."""
    _require(principal, PLAN_READERS)
    found = queries.plans(session)
    counts = queries.grid_counts(session, [p.id for p in found])
    return [to_read(session, p, counts.get(p.id, 0)) for p in found]


def update(session: Session, *, principal: Principal, plan_id: int, if_match: str | None,
           body: PlanUpdate, now: datetime) -> Plan:
    """Rename a draft or change its note (no edit-log row: no grid changes)."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    plan.name = body.name if body.name is not None else plan.name
    plan.note = body.note if body.note is not None else plan.note
    plan.version += 1
    plan.updated_at = now
    session.commit()
    return plan


def discard(session: Session, *, principal: Principal, plan_id: int, if_match: str | None,
            now: datetime) -> Plan:
    """Mark a draft discarded; it keeps its grids and log but takes no more edits."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    plan.status = "discarded"
    plan.version += 1
    plan.updated_at = now
    session.commit()
    return plan


def _properties(grid: PlanGrid, changed: bool) -> dict[str, Any]:
    return {"code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind,
            "parent_code": grid.parent_code, "households": grid.households,
            "population": grid.population, "multipart": grid.multipart,
            "source_version_id": grid.source_version_id, "changed": bool(changed),
            "edited_at": grid.edited_at.isoformat(), "edited_by": grid.edited_by}


def features(session: Session, *, principal: Principal, plan_id: int,
             code: str | None = None) -> list[dict[str, Any]]:
    """A plan's grids (or one) as GeoJSON features."""
    readable(session, principal=principal, plan_id=plan_id)
    return [{"type": "Feature", "id": grid.code, "properties": _properties(grid, changed),
             "geometry": orjson.Fragment(geometry)}
            for grid, geometry, changed in queries.grid_rows(session, plan_id)
            if code is None or grid.code == code]


def parse_geometry(value: dict[str, Any], types: tuple[str, ...], crs: str = "wgs84",
                   what: str = "几何") -> BaseGeometry:
    """A GeoJSON geometry in lon/lat (of `crs`) as a valid shapely geometry in storage lon/lat;
    422 when it is not one of `types`, empty, invalid or outside China."""
    try:
        geometry = shape(value)
        name = crs_module.normalize_crs(crs)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, GEOSException) as exc:
        raise InvalidInputError(f"{what}不是 GeoJSON 几何：{exc}") from exc
    if geometry.geom_type not in types or geometry.is_empty:
        raise InvalidInputError(f"{what}须是非空的 {' 或 '.join(types)}")
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES_PER_GEOMETRY:
        raise InvalidInputError(f"{what}的顶点超过 {MAX_VERTICES_PER_GEOMETRY:,} 个："
                                "请先简化")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InvalidInputError(f"{what}含有不是数字的坐标")

    def to_storage(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(crs_module.to_storage(xy[:, 0], xy[:, 1], name))

    geometry = shapely.transform(geometry, to_storage)
    if not all(crs_module.inside_china(x, y) for x, y in shapely.get_coordinates(geometry)):
        raise InvalidInputError(f"{what}超出中国范围：请用经纬度（经度在前）")
    if not geometry.is_valid:
        reason, _ = invalid_because(str(shapely.is_valid_reason(geometry)))
        raise InvalidInputError(f"{what}无效：{reason}")
    return geometry


def _frame(edit: Edit, code: str, kind: str, level: int | None,
           parent_code: str | None) -> tuple[list[BaseGeometry], BaseGeometry | None]:
    """The siblings a grid must tile with and the parent it must stay inside."""
    parent = edit.shape(parent_code) if parent_code in edit.grids else None
    if kind != COMPREHENSIVE:
        return [], parent
    siblings = [edit.shape(c) for c, g in edit.grids.items() if c != code
                and g.kind == COMPREHENSIVE and g.level == level and g.parent_code == parent_code]
    return siblings, parent


def put_grid(session: Session, *, principal: Principal, plan_id: int, code: str,
             feature: GridFeature, if_match: str | None, now: datetime) -> Plan:
    """Create or replace one grid; its shape is snapped to its siblings and parent."""
    props = feature.properties
    if props.code is not None and props.code != code:
        raise InvalidInputError(f"要素的编码 {props.code} 与地址中的 {code} 不一致")
    geometry = parse_geometry(feature.geometry, ("Polygon", "MultiPolygon"), props.crs)
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    edit = Edit(session, plan, actor=principal.username, now=now,
                scope=principal.scope_code)
    neighbours, parent = _frame(edit, code, props.kind, props.level, props.parent_code)
    try:
        snapped = snap_to_neighbours(geometry, neighbours=neighbours, parent=parent)
    except GEOSException as exc:  # a drawn shape GEOS cannot overlay: the input's fault
        raise InvalidInputError(f"图形无法与相邻网格贴合：{exc}") from exc
    if snapped.is_empty:
        raise InvalidInputError("与相邻网格贴合后，网格已不剩任何面积")
    fields = props.model_dump(exclude={"code", "crs"})
    edit.put(code, snapped, **fields)
    edit.finish("put", {"code": code, **fields})
    session.commit()
    return plan


def delete_grid(session: Session, *, principal: Principal, plan_id: int, code: str,
                if_match: str | None, now: datetime) -> Plan:
    """Remove one grid from a draft."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    edit = Edit(session, plan, actor=principal.username, now=now,
                scope=principal.scope_code)
    edit.delete(code)
    edit.finish("delete", {"code": code})
    session.commit()
    return plan


def undo_last(session: Session, *, principal: Principal, plan_id: int, if_match: str | None,
              now: datetime) -> Plan:
    """Undo the newest edit not yet undone (409 when there is none)."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    undo(session, plan, now=now)
    session.commit()
    return plan


def edit_log(session: Session, *, principal: Principal, plan_id: int) -> list[PlanEdit]:
    """A plan's edits, oldest first."""
    readable(session, principal=principal, plan_id=plan_id)
    return queries.edits(session, plan_id)


def validation(session: Session, *, principal: Principal, plan_id: int) -> ValidationRead:
    """The plan's grids checked as one hierarchy, with what to highlight for each problem."""
    readable(session, principal=principal, plan_id=plan_id)
    records = [as_record(g) for g in plan_grids(session, plan_id)]
    problems = validate_hierarchy(records)
    clears = repairable(problems, validate_hierarchy(list(
        repair_hierarchy(records, problems=problems).records))) if problems else []
    return ValidationRead(valid=not problems, problems=[ProblemRead.of(p) for p in problems],
                          repairable=sum(clears))
