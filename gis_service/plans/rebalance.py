"""Suggest a rebalance: a new draft in which level-3 grids outside the household band are split,
merged or reshaped (grid_layers.rebalance), the source plan left as it is.

The units moved are address points. Like the plan metrics, a point without a POI name is a
dwelling and counts as one household; where a grid carries a household count, its dwellings are
scaled to sum to it (a grid with a count and no dwelling gets one unit of that weight at a point
inside it), so that the suggestion balances the counts planners see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.addresses.models import AddressPoint
from gis_service.errors import ConflictError, InvalidInputError, NotFoundError
from gis_service.plans.drafts import plan_grids, shape_of
from gis_service.plans.edits import Edit
from gis_service.plans.models import Plan, PlanGrid
from grid_layers.hierarchy import COMPREHENSIVE
from grid_layers.rebalance import Rebalanced, balance, rebalance_parent

SUFFIX = "（均衡建议）"


@dataclass(frozen=True)
class Units:
    """A parent's household units: lon/lat points and their weights."""

    xy: np.ndarray
    weight: np.ndarray
    scaled: bool  # some weights were scaled to a grid's household count


def copy_plan(session: Session, source: Plan, *, owner: str, name: str, now: datetime) -> Plan:
    """A new draft with a copy of every grid of `source`, provenance kept; the caller commits."""
    plan = Plan(name=name, note="", owner=owner, status="draft",
                based_on_at=source.based_on_at, source=f"plan {source.id}", version=1,
                created_at=now, updated_at=now)
    session.add(plan)
    session.flush()
    for grid in plan_grids(session, source.id):
        session.add(PlanGrid(
            plan_id=plan.id, code=grid.code, name=grid.name, level=grid.level, kind=grid.kind,
            parent_code=grid.parent_code, households=grid.households,
            population=grid.population, multipart=grid.multipart,
            attributes=dict(grid.attributes), geom=grid.geom,
            source_version_id=grid.source_version_id, edited_at=grid.edited_at,
            edited_by=grid.edited_by))
    session.flush()
    return plan


def _points(session: Session, parent: PlanGrid) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of the address points the parent covers, and whether each is a dwelling."""
    rows = session.execute(
        select(func.ST_X(AddressPoint.geom), func.ST_Y(AddressPoint.geom),
               func.coalesce(AddressPoint.poi, "") == "")
        .join(PlanGrid, func.ST_Covers(PlanGrid.geom, AddressPoint.geom))
        .where(PlanGrid.id == parent.id).order_by(AddressPoint.id)).all()
    xy = np.array([(r[0], r[1]) for r in rows], dtype=np.float64).reshape(-1, 2)
    return xy, np.array([bool(r[2]) for r in rows], dtype=bool)


def units_of(session: Session, parent: PlanGrid, children: Sequence[PlanGrid]) -> Units:
    """Dwellings in the parent weighted one each, or scaled to their grid's households."""
    xy, dwelling = _points(session, parent)
    xy = xy[dwelling]
    weight = np.ones(len(xy))
    extra_xy, extra_w, scaled = [], [], False
    for child in children:
        shape = shape_of(child)
        inside = shapely.contains_xy(shape, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
        if child.households is None:
            continue
        scaled = True
        if inside.any():
            weight[inside] = child.households / inside.sum()
        elif child.households:
            point = shapely.point_on_surface(shape)
            extra_xy.append((point.x, point.y))
            extra_w.append(float(child.households))
    if extra_xy:
        xy = np.vstack([xy, np.array(extra_xy)])
        weight = np.concatenate([weight, extra_w])
    return Units(xy, weight, scaled)


def _totals(children: Sequence[PlanGrid], units: Units) -> dict[str, float]:
    out = {}
    for child in children:
        shape = shape_of(child)
        inside = shapely.contains_xy(shape, units.xy[:, 0], units.xy[:, 1])
        out[child.code] = float(units.weight[inside].sum())
    return out


def _whole(weights: dict[str, float]) -> dict[str, int]:
    """Whole households summing to the rounded total (largest remainder)."""
    floor = {c: int(w) for c, w in weights.items()}
    short = round(sum(weights.values())) - sum(floor.values())
    for code in sorted(weights, key=lambda c: floor[c] - weights[c])[:max(short, 0)]:
        floor[code] += 1
    return floor


def _apply(edit: Edit, parent: PlanGrid, result: Rebalanced) -> None:
    households = _whole({c: result.households[c] for c in (*result.added, *result.reshaped)})
    for code in result.removed:
        edit.delete(code)
    for number, code in enumerate(result.added, 1):
        edit.put(code, result.grids[code], name=f"{parent.name}新网格{number}",
                 kind=COMPREHENSIVE, level=3, parent_code=parent.code,
                 households=households[code], population=None,
                 attributes={"suggested": "rebalance"})
    for code in result.reshaped:
        edit.put(code, result.grids[code], households=households[code], population=None)


def _summary(before: list[float], after: list[float], band: tuple[int, int]) -> dict[str, Any]:
    def describe(values: list[float]) -> dict[str, Any]:
        b = balance(values, band)
        return {"grids": b.grids, "in_band": b.in_band, "min": round(b.lowest),
                "max": round(b.highest)}

    return {"before": describe(before), "after": describe(after)}


def _note(source: Plan, band: tuple[int, int], seed: int, parents: list[str],
          summary: dict[str, Any], scaled: bool) -> str:
    b, a = summary["before"], summary["after"]
    weights = ("address points (dwellings) scaled to each grid's household count" if scaled
               else "one household per address point without a POI name")
    return (f"Suggested from plan {source.id} for the band {band[0]}–{band[1]} households "
            f"(seed {seed}), rebalancing the level-3 grids of {', '.join(parents) or 'no parent'}. "
            "Level-3 grids of the plan: "
            f"{b['in_band']}/{b['grids']} in band before (households {b['min']}–{b['max']}), "
            f"{a['in_band']}/{a['grids']} after ({a['min']}–{a['max']}). Households from "
            f"{weights}; population of changed grids left empty.")


def suggest_rebalance(session: Session, *, plan_id: int, owner: str, band: tuple[int, int],
                      parents: Sequence[str] | None = None, seed: int = 0,
                      now: datetime, scope: str | None = None) -> tuple[Plan, dict[str, Any]]:
    """A new draft copying the plan, with the chosen parents' level-3 grids rebalanced (by
    default every parent in the planner's `scope` with a grid outside the band), and a
    summary; committed."""
    source = session.get(Plan, plan_id)
    if source is None:
        raise NotFoundError(f"没有方案 {plan_id}")
    if source.status == "discarded":
        raise ConflictError(f"方案 {plan_id} 已废弃")
    if band[0] > band[1] or band[0] < 0:
        raise InvalidInputError(f"户数区间 {list(band)} 应为 [下限, 上限]，且 0 ≤ 下限 ≤ 上限")
    plan = copy_plan(session, source, owner=owner, name=f"{source.name}{SUFFIX}", now=now)
    grids = plan_grids(session, plan.id)
    level2 = {g.code: g for g in grids if g.kind == COMPREHENSIVE and g.level == 2}
    unknown = sorted(set(parents or ()) - set(level2))
    if unknown:
        raise InvalidInputError(f"以下不是方案 {plan_id} 的二级网格：{'、'.join(unknown)}")
    children = {code: [g for g in grids if g.level == 3 and g.parent_code == code]
                for code in level2}
    taken = {g.code for g in grids}
    edit = Edit(session, plan, actor=owner, now=now, scope=scope)
    before: dict[str, float] = {}
    after: dict[str, float] = {}
    done, scaled = [], False
    for code in sorted(level2):  # every parent: the summary is over the plan's level-3 grids
        kids = children[code]
        if not kids or not edit.may_change(code):
            continue
        units = units_of(session, level2[code], kids)
        totals = _totals(kids, units)
        before |= totals
        chosen = code in parents if parents else balance(totals.values(), band).in_band < len(kids)
        if not chosen:
            after |= totals
            continue
        result = rebalance_parent(parent_code=code, grids={k.code: shape_of(k) for k in kids},
                                  xy=units.xy, weights=units.weight, band=band, seed=seed,
                                  taken=taken)
        taken |= set(result.grids)
        _apply(edit, level2[code], result)
        after |= result.households
        done.append(code)
        scaled = scaled or units.scaled
    summary = {"band": list(band), "seed": seed, "parents": done,
               **_summary(list(before.values()), list(after.values()), band)}
    edit.finish("rebalance", summary)
    plan.note = _note(source, band, seed, done, summary, scaled)
    session.commit()
    return plan, summary

