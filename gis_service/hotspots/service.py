"""Hotspots and early warning: this week's reports per H3 cell, category and level-3 grid
against the same keys' recent weeks, new clusters and repeat addresses — for the wall's
analysis viewpoint, the weekly report and the command line."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.hotspots import queries
from gis_service.hotspots.repeats import PLACE_RADIUS_M, RepeatGroup, repeat_groups, repeat_warnings
from gis_service.hotspots.scan import (
    Binned,
    Thresholds,
    bin_reports,
    flag_week,
    new_cells,
    scan_weeks,
)
from gis_service.incidents.scope import visible
from grid_layers.h3_index import cell_polygon
from grid_layers.hotspots import Flags, clusters

WEEK = timedelta(days=7)
ONE_CATEGORY_SHARE = 0.6  # above this share of a cell's reports, the message names the category


@dataclass(frozen=True)
class Names:
    """Grid and category names for the messages."""

    grids: dict[str, str]
    categories: dict[str, str]

    def grid(self, code: str | None) -> str:
        """A grid's name (its code when unknown)."""
        return self.grids.get(code or "", code or "未定位网格")

    def category(self, code: str | None) -> str:
        """A category's name (its code when unknown)."""
        return self.categories.get(code or "", code or "未分类")


def thresholds_from(settings: Settings) -> Thresholds:
    """The hotspot settings as thresholds."""
    return Thresholds(
        baseline_weeks=settings.hotspot_baseline_weeks, p_value=settings.hotspot_p_value,
        min_count=settings.hotspot_min_count,
        new_cluster_min=settings.hotspot_new_cluster_min,
        repeat_address=settings.hotspot_repeat_address,
        repeat_radius_m=settings.hotspot_repeat_radius_m,
        resolution=settings.hotspot_resolution)


def pairs(session: Session, rows: queries.Rows) -> dict[Any, Any]:
    """A two-column select as a dict."""
    return {key: value for key, value in session.execute(rows)}


def scope_of(principal: Principal | None, area: str | None) -> ColumnElement[bool]:
    """What the caller may see (everything without a caller) inside `area`."""
    return and_(true() if principal is None else visible(principal), queries.in_area(area))


def scan_hotspots(session: Session, *, principal: Principal | None, area: str | None,
                  week_end: datetime, thresholds: Thresholds) -> dict[str, Any]:
    """The week before `week_end` against the baseline weeks before it: warnings and cells."""
    limits = thresholds
    weeks = limits.baseline_weeks + 1
    start, week_start = week_end - weeks * WEEK, week_end - WEEK
    condition = scope_of(principal, area)
    rows = session.execute(queries.placed_reports(condition, start, week_end)).all()
    binned = bin_reports(rows, start_epoch=start.timestamp(), weeks=weeks,
                         resolution=limits.resolution)
    names = Names(pairs(session, queries.grid_names(week_end)),
                  pairs(session, queries.category_names()))
    cell_found, cells = _cell_warnings(binned, limits, names)
    points = session.execute(queries.addressed_reports(condition, week_start, week_end)).all()
    groups = repeat_groups(points, limits)
    # the surprising first: a wall that shows only the first few shows those
    warnings = [*cell_found, *_key_warnings(binned, "category", limits, names),
                *_key_warnings(binned, "grid", limits, names),
                *repeat_warnings(groups, _places(session, groups), limits, names)]
    return {"week": {"start": week_start.isoformat(), "end": week_end.isoformat()},
            "baseline_weeks": limits.baseline_weeks, "thresholds": asdict(limits),
            "warnings": warnings, "cells": cells}


def _places(session: Session, groups: list[RepeatGroup]) -> list[str | None]:
    """The address point near each group's centre (None where none is near)."""
    if not groups:
        return []
    rows = session.execute(queries.NEAREST_ADDRESSES, {
        "lons": [g.lon for g in groups], "lats": [g.lat for g in groups],
        "radius": PLACE_RADIUS_M}).all()
    return [row.address for row in rows]


def scan_year(session: Session, *, principal: Principal | None, area: str | None,
              end: datetime, thresholds: Thresholds, weeks: int = 52) -> list[dict[str, int]]:
    """Every one of the `weeks` weeks before `end`, each against its own baseline: how many
    cells, categories and grids were flagged (one read of the reports, binned once)."""
    limits = thresholds
    total = weeks + limits.baseline_weeks
    start = end - total * WEEK
    rows = session.execute(queries.placed_reports(scope_of(principal, area), start, end)).all()
    binned = bin_reports(rows, start_epoch=start.timestamp(), weeks=total,
                         resolution=limits.resolution)
    return scan_weeks(binned, limits)


def _cell_warnings(binned: Binned, limits: Thresholds,
                   names: Names) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    current = binned.weeks - 1
    counts = binned.matrix("cell")
    flags = flag_week(counts, current, limits)
    new = new_cells(counts, current, limits)
    keys = binned.keys["cell"]
    row = {str(cell): i for i, cell in enumerate(keys)}
    groups = clusters([str(c) for c in keys[new]], [str(c) for c in keys[flags.flagged]])
    in_cluster = {cell for group in groups for cell in group}
    found = []
    for group in groups:
        rows = [row[cell] for cell in group]
        count = int(counts[rows, current].sum())
        place, category = _place(binned, rows, names)
        found.append({
            "kind": "new_cluster", "cells": group, "count": count,
            "expected": round(float(flags.expected[rows].sum()), 2), "ratio": None,
            "p": float(flags.p[rows].min()),
            "geometry": {"type": "MultiPolygon",
                         "coordinates": [cell_polygon(c)["coordinates"] for c in group]},
            "message": f"{place}附近出现新的聚集：本周{category}上报{count}起，"
                       f"近{limits.baseline_weeks}周无上报"})
    for i in np.flatnonzero(flags.flagged):
        cell = str(keys[i])
        if cell in in_cluster:
            continue
        count = int(counts[i, current])
        place, category = _place(binned, [int(i)], names)
        found.append(_tested("hotspot", {"cell": cell}, count, flags, int(i), cell_polygon(cell),
                             f"{place}附近本周{category}上报{count}起", limits))
    features = [{"type": "Feature", "id": str(keys[i]), "geometry": cell_polygon(str(keys[i])),
                 "properties": {"cell": str(keys[i]), "count": int(counts[i, current]),
                                "expected": round(float(flags.expected[i]), 2),
                                "p": float(flags.p[i]), "flagged": bool(flags.flagged[i])}}
                for i in np.flatnonzero(counts[:, current])]
    return found, {"type": "FeatureCollection", "features": features}


def _key_warnings(binned: Binned, kind: str, limits: Thresholds,
                  names: Names) -> list[dict[str, Any]]:
    counts = binned.matrix(kind)
    flags = flag_week(counts, binned.weeks - 1, limits)
    found = []
    for i in np.flatnonzero(flags.flagged):
        code = str(binned.keys[kind][i])
        if not code:
            continue  # reports without a category or grid are no trend of one
        count = int(counts[i, binned.weeks - 1])
        if kind == "category":
            found.append(_tested("rising_category", {"category": code}, count, flags, int(i),
                                 None, f"{names.category(code)}类本周上报{count}起", limits))
        else:
            found.append(_tested("grid_load", {"grid": code}, count, flags, int(i), None,
                                 f"{names.grid(code)}本周上报{count}起", limits))
    return sorted(found, key=lambda w: w["p"])


def _tested(kind: str, key: dict[str, Any], count: int, flags: Flags, i: int,
            geometry: dict[str, Any] | None, said: str, limits: Thresholds) -> dict[str, Any]:
    expected = float(flags.expected[i])
    weeks = limits.baseline_weeks
    versus = (f"，为近{weeks}周均值的{count / expected:.1f}倍" if expected > 0
              else f"，近{weeks}周无上报")
    return {"kind": kind, **key, "count": count, "expected": round(expected, 2),
            "ratio": round(count / expected, 2) if expected > 0 else None,
            "p": float(flags.p[i]), "geometry": geometry, "message": said + versus}


def _place(binned: Binned, rows: list[int], names: Names) -> tuple[str, str]:
    """The grid most of this week's reports in the cells lie in, and their category (or
    "" when mixed) as a message fragment."""
    mask = binned.week_mask(binned.weeks - 1) & np.isin(binned.index["cell"], rows)
    grids = np.bincount(binned.index["grid"][mask], minlength=len(binned.keys["grid"]))
    place = names.grid(str(binned.keys["grid"][int(grids.argmax())]))
    kinds = np.bincount(binned.index["category"][mask],
                        minlength=len(binned.keys["category"]))
    top = int(kinds.argmax())
    if kinds[top] < ONE_CATEGORY_SHARE * max(int(mask.sum()), 1):
        return place, ""
    return place, f"{names.category(str(binned.keys['category'][top]))}类"
