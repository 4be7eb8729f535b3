"""Enforcement districts checked and repaired as the children of their town: they must tile it
(a point in no district would be routed to the town center without anyone having decided so),
so the grid validator and repair run on the town (fixed, as stored) with its districts one level
below it. A district belongs to the stored town it overlaps most; towns with no district are
left out (a town may run without enforcement districts)."""

from __future__ import annotations

from datetime import UTC, datetime

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.grids.queries import current_versions
from grid_layers.hierarchy import COMPREHENSIVE
from grid_layers.repair import Repair, repair_hierarchy, repairable
from grid_layers.validation import GridRecord, Problem, find_overlaps, validate_hierarchy

_DISTRICT_LEVEL = 2  # one level below the town, as the validator counts


def _hierarchy(session: Session, geometries: dict[str, BaseGeometry]) -> list[GridRecord]:
    towns = {g.code: to_shape(g.geom) for g in current_versions(session, datetime.now(UTC))
             if g.kind == COMPREHENSIVE and g.level == 1}
    districts = []
    for code, shape in sorted(geometries.items()):
        town = max(towns, default=None, key=lambda t: _shared(towns[t], shape))
        if town is not None and _shared(towns[town], shape) == 0.0:
            town = None
        districts.append(GridRecord(code, code, COMPREHENSIVE, _DISTRICT_LEVEL, town, shape))
    used = {d.parent_code for d in districts}
    return [GridRecord(code, code, COMPREHENSIVE, 1, None, shape)
            for code, shape in towns.items() if code in used] + districts


def _shared(town: BaseGeometry, shape: BaseGeometry) -> float:
    try:
        return float(shapely.area(shapely.intersection(town, shape)))
    except shapely.errors.GEOSException:  # an invalid district: the repair's to make valid
        return float(shapely.area(shapely.intersection(town, shapely.envelope(shape))))


def _in_words(problem: Problem) -> Problem:
    """The grid validator's words for a district: 二级网格 here means 执法片区."""
    text = (problem.message.replace("二级网格", "执法片区").replace("一级网格（镇）", "镇")
            .replace("上级网格 ", "所在镇 ").replace("网格 ", "片区 "))
    return Problem(problem.type, problem.grids, problem.area_m2, problem.geometry, text)


def check_districts(session: Session, geometries: dict[str, BaseGeometry]) -> list[Problem]:
    """Overlaps, gaps, slivers and parts outside the town; with no town stored, overlaps."""
    records = _hierarchy(session, geometries)
    if not any(r.level == 1 for r in records):
        return find_overlaps(geometries)
    return [_in_words(p) for p in validate_hierarchy(records)]


def repairable_districts(session: Session, geometries: dict[str, BaseGeometry],
                         tolerance_m: float, problems: list[Problem]) -> list[bool]:
    """Which of the problems a repair within the tolerance would clear."""
    repaired, _ = repair_districts(session, geometries, tolerance_m)
    return repairable(problems, check_districts(session, repaired))


def repair_districts(session: Session, geometries: dict[str, BaseGeometry],
                     tolerance_m: float) -> tuple[dict[str, BaseGeometry], list[Repair]]:
    """The districts repaired within the tolerance against their town, which never moves."""
    records = _hierarchy(session, geometries)
    towns = {r.code for r in records if r.level == 1}
    outcome = repair_hierarchy(records, tolerance_m, fixed=towns)
    repaired = {r.code: r.geometry for r in outcome.records if r.code not in towns}
    return repaired, list(outcome.repairs)
