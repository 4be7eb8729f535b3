"""Taihu: an approximate lake outline, approximate inflowing rivers and the three protection
levels of the Jiangsu regulation, cut to a study area around the town.

Level 1: the lake, 5 km of land from its shore, and 10 km up each inflowing river with 1 km
either side. Level 2: 10–50 km up the main inflowing rivers, 1 km either side, less level 1.
Level 3: the rest of the basin (here: the rest of the study area). The three are disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from demo_town.common import GRID_SIZE, area_km2, feature, to_lonlat, to_metric
from demo_town.town import load_wujiang, shore_of

STUDY_MARGIN_M = 15_000.0
LAND_BAND_M = 5_000.0
RIVER_SIDE_M = 1_000.0
LEVEL1_UP_M, LEVEL2_UP_M = 10_000.0, 50_000.0
# Wujiang's boundary beyond the town's north tip is still the shore for a few kilometres
SHORE_ON = ((120.457937, 31.014489), (120.462005, 31.02029), (120.465242, 31.02735),
            (120.473, 31.0405), (120.4916, 31.0577))
# The rest of the lake, drawn by hand (lon, lat): east and north shores clockwise to the west
# shore and back along the south shore to the town's south-west corner. Islands are left out.
HAND_DRAWN = (
    (120.50, 31.075), (120.46, 31.085), (120.41, 31.070), (120.375, 31.060), (120.36, 31.085),
    (120.385, 31.125), (120.42, 31.165), (120.45, 31.205), (120.43, 31.250), (120.39, 31.290),
    (120.35, 31.320), (120.33, 31.355), (120.36, 31.395), (120.40, 31.430), (120.42, 31.470),
    (120.37, 31.480), (120.30, 31.445), (120.25, 31.470), (120.24, 31.530), (120.20, 31.550),
    (120.16, 31.500), (120.13, 31.450), (120.08, 31.445), (120.03, 31.470), (119.98, 31.440),
    (119.95, 31.390), (119.925, 31.320), (119.915, 31.240), (119.94, 31.160),
    (119.98, 31.080), (120.02, 31.010), (120.08, 30.965), (120.15, 30.940), (120.23, 30.928),
    (120.30, 30.925), (120.335, 30.905), (120.35, 30.895),
)
# Inflowing rivers, mouth first (lon, lat); drawn by hand, not surveyed.
RIVERS = (
    ("RIVER-WULOU", "吴溇港（示意）", (
        (120.3702, 30.9440), (120.382, 30.925), (120.392, 30.900), (120.398, 30.872),
        (120.404, 30.840), (120.420, 30.800), (120.432, 30.760), (120.445, 30.700),
        (120.455, 30.640), (120.470, 30.580), (120.490, 30.520))),
    ("RIVER-DONGLOU", "东溇港（示意）", (
        (120.4916, 31.0577), (120.488, 31.035), (120.482, 31.005), (120.476, 30.978),
        (120.468, 30.958), (120.458, 30.935), (120.452, 30.905), (120.456, 30.875),
        (120.462, 30.840), (120.470, 30.800), (120.480, 30.750), (120.490, 30.700),
        (120.500, 30.650), (120.510, 30.600))),
    ("RIVER-DAQIAN", "大钱港（示意）", (
        (120.2600, 30.9272), (120.255, 30.900), (120.245, 30.860), (120.230, 30.820),
        (120.205, 30.780), (120.180, 30.730), (120.150, 30.680), (120.120, 30.620),
        (120.090, 30.560), (120.060, 30.500))),
)


@dataclass(frozen=True)
class Taihu:
    """The lake, its rivers and the zones (lon/lat)."""

    lake: Polygon
    rivers: list[tuple[str, str, LineString]]
    zones: list[tuple[str, str, int, BaseGeometry]]  # code, name, level, geometry


def lake_outline(town_outline: Polygon) -> Polygon:
    """The lake, its edge along the town the town's own shore vertices."""
    shore = shore_of(town_outline, load_wujiang())
    ring = [*shore.coords, *SHORE_ON, *HAND_DRAWN]
    lake = shapely.orient_polygons(Polygon(ring))
    if not lake.is_valid or lake.intersection(town_outline).area > 0:
        raise SystemExit("the hand-drawn lake is invalid or overlaps the town")
    return lake


def _upstream(river_m: LineString, start_m: float, end_m: float) -> BaseGeometry:
    """The stretch of a river from start_m to end_m upstream of its mouth, 1 km either side."""
    stretch = substring(river_m, start_m, min(end_m, river_m.length))
    return stretch.buffer(RIVER_SIDE_M, quad_segs=4)


def _lonlat(metric: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(shapely.make_valid(to_lonlat(metric)), GRID_SIZE)


def build_taihu(town_outline: Polygon) -> Taihu:
    """The lake outline and the three protection levels within the study area; the levels are
    cut from each other in lon/lat on the written precision grid, so they stay disjoint."""
    lake = lake_outline(town_outline)
    lake_m = to_metric(lake)
    rivers = [(code, name, LineString(points)) for code, name, points in RIVERS]
    rivers_m = [to_metric(line) for _, _, line in rivers]
    study_m = shapely.box(*to_metric(town_outline).bounds).buffer(STUDY_MARGIN_M, join_style=2)
    study = _lonlat(study_m)
    near = _lonlat(shapely.union_all([lake_m.buffer(LAND_BAND_M, quad_segs=8),
                                      *(_upstream(r, 0.0, LEVEL1_UP_M) for r in rivers_m)]))
    corridors = _lonlat(shapely.union_all([_upstream(r, LEVEL1_UP_M, LEVEL2_UP_M)
                                           for r in rivers_m]))
    level1 = shapely.intersection(near, study, grid_size=GRID_SIZE)
    level2 = shapely.difference(shapely.intersection(corridors, study, grid_size=GRID_SIZE),
                                level1, grid_size=GRID_SIZE)
    level3 = shapely.difference(study, shapely.union(level1, level2, grid_size=GRID_SIZE),
                                grid_size=GRID_SIZE)
    zones = [
        ("TAIHU-LAKE", "太湖水域（示意轮廓）", 0, lake),
        ("TAIHU-1", "太湖一级保护区", 1, level1),
        ("TAIHU-2", "太湖二级保护区", 2, level2),
        ("TAIHU-3", "太湖三级保护区", 3, level3),
    ]
    return Taihu(lake, rivers, zones)


ZONE_NOTES = {
    "TAIHU-LAKE": "手绘示意轮廓，非测绘成果；沿七都段岸线与镇界一致",
    "TAIHU-1": "湖体、沿湖岸5公里陆域、主要入湖河道上溯10公里两侧各1公里（示意，截至研究范围）",
    "TAIHU-2": "主要入湖河道上溯10至50公里两侧各1公里（示意，截至研究范围）",
    "TAIHU-3": "太湖流域其他地区（示意，截至研究范围）",
}


def zone_features(taihu: Taihu) -> list[dict[str, Any]]:
    """The zones as GeoJSON features, all marked approximate."""
    return [feature(geometry, {"code": code, "name": name, "level": level,
                               "approximate": True, "note": ZONE_NOTES[code],
                               "area_km2": round(area_km2(geometry), 1)})
            for code, name, level, geometry in taihu.zones]


def river_features(taihu: Taihu) -> list[dict[str, Any]]:
    """The inflowing rivers as GeoJSON lines, marked approximate."""
    return [feature(line, {"code": code, "name": name, "approximate": True,
                           "flows_into": "TAIHU-LAKE"})
            for code, name, line in taihu.rivers]
