"""Higher-level plan edits: split a grid by a line, merge two, move a piece to a neighbour,
reassign level-3 grids to another level-2 parent. Each checks everything before it changes
anything, keeps the touched grids' shared edges exact (grid_layers.plan_edits) and is one
edit in the log, undone as one.

What each refuses (422): split — the town, a grid of several pieces, a line that does not cut
it into exactly two solid pieces, a level-2 grid cut through a level-3 grid's interior (the
line must run along their edges), a code already used; merge — grids of different level,
kind or parent, the town, grids not sharing an edge, a code already used; move — grids of
different level or parent, special grids, a piece that misses the giver, does not border the
taker, cuts a level-3 grid of a level-2 giver, takes all of the giver, or leaves either grid in
several pieces (unless marked multipart); reassign — a non-level-3 grid, a non-level-2 parent,
a grid already there, a parent left empty or in several pieces (unless marked multipart).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import InvalidInputError
from gis_service.plans.edits import Edit
from gis_service.plans.models import Plan, PlanGrid
from gis_service.plans.schemas import MergeOp, MoveOp, ReassignOp, SplitOp
from gis_service.plans.service import editable, parse_geometry
from grid_layers import plan_edits
from grid_layers.hierarchy import COMPREHENSIVE
from grid_layers.plan_edits import EditError, area_m2, solid_parts

Op = SplitOp | MergeOp | MoveOp | ReassignOp


def _children(edit: Edit, grid: PlanGrid) -> dict[str, BaseGeometry]:
    """The level-3 grids of a level-2 grid (none for other grids)."""
    if grid.kind != COMPREHENSIVE or grid.level != 2:
        return {}
    return {c: edit.shape(c) for c, g in edit.grids.items() if g.parent_code == grid.code
            and g.kind == COMPREHENSIVE and g.level == 3}


def _one_piece(grid: PlanGrid, geometry: BaseGeometry) -> None:
    if solid_parts(geometry) > 1 and not grid.multipart:
        raise InvalidInputError(f"网格 {grid.code} 将分成互不相连的几块"
                                "（如确需如此，请将其标为多块网格 multipart）")


def _new_code(edit: Edit, code: str, *allowed: str) -> None:
    if code in edit.grids and code not in allowed:
        raise InvalidInputError(f"方案中已有网格 {code}")


def _copy(grid: PlanGrid) -> dict[str, Any]:
    return {"level": grid.level, "kind": grid.kind, "parent_code": grid.parent_code,
            "multipart": grid.multipart, "attributes": dict(grid.attributes)}


def _share(value: int | None, part: float) -> int | None:
    return None if value is None else round(value * part)


def split(edit: Edit, op: SplitOp) -> dict[str, Any]:
    """Cut a grid in two; households and population are shared by area."""
    grid = edit.grid(op.grid)
    if grid.kind == COMPREHENSIVE and grid.level == 0:
        raise InvalidInputError("县级网格不能拆分")
    if grid.kind == COMPREHENSIVE and grid.level == 1:
        raise InvalidInputError("镇（一级网格）不能拆分")
    first, second = op.codes
    if first == second:
        raise InvalidInputError("拆分后的两块需要不同的编码")
    for code in op.codes:
        _new_code(edit, code, grid.code)
    line = parse_geometry(op.line, ("LineString",), what="所画的线")
    assert isinstance(line, shapely.LineString)
    result = plan_edits.split(edit.shape(grid.code), line, children=_children(edit, grid))
    names = op.names or [grid.name if first == grid.code else first, second]
    share = area_m2(result.left) / max(area_m2(result.left) + area_m2(result.right), 1e-9)
    counts = (grid.households, grid.population)
    fields = _copy(grid)
    if first != grid.code:
        edit.delete(grid.code)
    for code, name, piece, part in ((first, names[0], result.left, share),
                                    (second, names[1], result.right, 1.0 - share)):
        edit.put(code, piece, name=name, households=_share(counts[0], part),
                 population=_share(counts[1], part), **fields)
    for child, index in result.children.items():
        if edit.grids[child].parent_code != op.codes[index]:
            edit.put(child, parent_code=op.codes[index])
    return {"grid": op.grid, "codes": op.codes, "line": mapping(line)}


def merge(edit: Edit, op: MergeOp) -> dict[str, Any]:
    """Two neighbours of one level and parent as one grid; children follow."""
    a, b = (edit.grid(c) for c in op.grids)
    if a.code == b.code:
        raise InvalidInputError("请选择两个不同的网格")
    if (a.level, a.kind, a.parent_code) != (b.level, b.kind, b.parent_code):
        raise InvalidInputError("只能合并同一层级、同一类型、同一上级的网格")
    if a.kind == COMPREHENSIVE and a.level == 0:
        raise InvalidInputError("县级网格不能合并")
    if a.kind == COMPREHENSIVE and a.level == 1:
        raise InvalidInputError("镇（一级网格）不能合并")
    into = op.into or a.code
    _new_code(edit, into, a.code, b.code)
    merged = plan_edits.merge(edit.shape(a.code), edit.shape(b.code))
    keep = b if into == b.code else a
    total = [None if x is None or y is None else x + y
             for x, y in ((a.households, b.households), (a.population, b.population))]
    fields = {**_copy(keep), "multipart": a.multipart or b.multipart,
              "name": op.name or keep.name, "households": total[0], "population": total[1]}
    children = [c for c, g in edit.grids.items() if g.parent_code in (a.code, b.code)
                and g.kind == COMPREHENSIVE and g.level == (a.level or 0) + 1]
    for code in (a.code, b.code):
        if code != into:
            edit.delete(code)
    edit.put(into, merged, **fields)
    for child in children:
        if edit.grids[child].parent_code != into:
            edit.put(child, parent_code=into)
    return {"grids": op.grids, "into": into}


def move(edit: Edit, op: MoveOp) -> dict[str, Any]:
    """The part of one grid inside a drawn piece goes to a neighbour of the same parent."""
    giver, taker = edit.grid(op.from_), edit.grid(op.to)
    if giver.code == taker.code:
        raise InvalidInputError("请选择两个不同的网格")
    if giver.kind != COMPREHENSIVE or taker.kind != COMPREHENSIVE or giver.level in (0, 1):
        raise InvalidInputError("只能在二级或三级网格之间划转区域")
    if (giver.level, giver.parent_code) != (taker.level, taker.parent_code):
        raise InvalidInputError("两个网格须同一层级、同一上级；"
                                "要把三级网格划归另一个上级，请用改隶属（reassign）操作")
    piece = parse_geometry(op.piece, ("Polygon", "MultiPolygon"), what="所画的区域")
    result = plan_edits.move_piece(edit.shape(giver.code), edit.shape(taker.code), piece,
                                   children=_children(edit, giver))
    _one_piece(giver, result.giver)
    _one_piece(taker, result.taker)
    edit.put(giver.code, result.giver)
    edit.put(taker.code, result.taker)
    for child in result.children:
        edit.put(child, parent_code=taker.code)
    return {"from": giver.code, "to": taker.code, "piece": mapping(piece),
            "moved": list(result.children)}


def reassign(edit: Edit, op: ReassignOp) -> dict[str, Any]:
    """Level-3 grids to another level-2 parent: old parents give up their shapes to it."""
    target = edit.grid(op.parent)
    if target.kind != COMPREHENSIVE or target.level != 2:
        raise InvalidInputError(f"{target.code} 不是二级网格")
    codes = list(dict.fromkeys(op.grids))
    shapes: dict[str, BaseGeometry] = {target.code: edit.shape(target.code)}
    for code in codes:
        grid = edit.grid(code)
        if grid.kind != COMPREHENSIVE or grid.level != 3:
            raise InvalidInputError(f"{code} 不是三级网格")
        if grid.parent_code == target.code:
            raise InvalidInputError(f"{code} 已属于 {target.code}")
        old = edit.grid(grid.parent_code or "")
        shapes.setdefault(old.code, edit.shape(old.code))
        shapes[old.code], shapes[target.code] = plan_edits.transfer(
            shapes[old.code], shapes[target.code], edit.shape(code))
    for code, geometry in shapes.items():
        if solid_parts(geometry) == 0:
            raise InvalidInputError(f"{code} 将没有任何面积；请改用合并")
        _one_piece(edit.grid(code), geometry)
    for code, geometry in shapes.items():
        edit.put(code, geometry)
    for code in codes:
        edit.put(code, parent_code=target.code)
    return {"grids": codes, "parent": target.code}


_RUN: dict[str, Callable[[Edit, Any], dict[str, Any]]] = {
    "split": split, "merge": merge, "move": move, "reassign": reassign}


def apply(session: Session, *, principal: Principal, plan_id: int, op: Op,
          if_match: str | None, now: datetime) -> Plan:
    """Run one operation on a draft as one logged edit, committed."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    edit = Edit(session, plan, actor=principal.username, now=now,
                scope=principal.scope_code)
    try:
        detail = _RUN[op.op](edit, op)
    except EditError as exc:
        raise InvalidInputError(str(exc)) from exc
    except GEOSException as exc:  # a drawn shape GEOS cannot overlay: the input's fault
        raise InvalidInputError(f"所画的图形无法使用：{exc}") from exc
    edit.finish(op.op, detail)
    session.commit()
    return plan
