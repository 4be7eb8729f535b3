"""Key projects (重点工程): points, lines and polygons inside the town, each cut to the town."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from demo_town.common import GRID_SIZE, feature, to_lonlat, to_metric
from demo_town.grids import TownGrids
from demo_town.sites import HOTSPOTS
from demo_town.town import Town


def _site(key: str) -> Point:
    site = next(s for s in HOTSPOTS if s.key == key)
    return Point(site.lon, site.lat)


def _around(point: Point, width_m: float, height_m: float) -> Polygon:
    """A rectangle in metres around a lon/lat point."""
    centre = to_metric(point)
    assert isinstance(centre, Point)
    box = shapely.box(centre.x - width_m / 2, centre.y - height_m / 2,
                      centre.x + width_m / 2, centre.y + height_m / 2)
    result = to_lonlat(box)
    assert isinstance(result, Polygon)
    return result


def _inland(town: Town, offset_m: float, start: float, end: float) -> LineString:
    """A stretch of the shore moved `offset_m` inland (fractions of its length)."""
    shore = to_metric(town.shore)
    assert isinstance(shore, LineString)
    line = shore.offset_curve(offset_m)
    if not to_metric(town.outline).contains(line.interpolate(0.5, normalized=True)):
        line = shore.offset_curve(-offset_m)
    part = substring(line, start, end, normalized=True)
    result = to_lonlat(part)
    assert isinstance(result, LineString)
    return result


def _projects(town: Town, grids: TownGrids) -> list[tuple[str, str, str, str, BaseGeometry]]:
    specials = {g.code: g.geometry for g in grids.specials}
    villages = {g.name: g.geometry for g in grids.villages}
    park = specials["QD-S03"]
    return [
        ("QD-P01", "环湖大道提升改造", "building", "JS", _inland(town, 300.0, 0.05, 0.95)),
        ("QD-P02", "庙港渔港改造", "building", "NY", _around(_site("harbour"), 420.0, 300.0)),
        ("QD-P03", "七都农贸市场改造", "done", "SC", _around(_site("market"), 160.0, 120.0)),
        ("QD-P04", "太湖生态岸线修复", "building", "HB",
         shapely.intersection(town.outline, to_lonlat(to_metric(
             _inland(town, 80.0, 0.55, 0.9)).buffer(70.0)))),
        ("QD-P05", "吴溇港闸站建设", "planned", "SL", Point(120.3745, 30.9395)),
        ("QD-P06", "七都污水处理厂提标改造", "done", "HB", Point(120.4622, 30.9318)),
        ("QD-P07", "七都光电产业园三期", "building", "JS",
         shapely.intersection(park, _around(park.centroid, 700.0, 500.0))),
        ("QD-P08", "滨湖安置小区", "building", "JS", _around(_site("construction"), 360.0, 260.0)),
        ("QD-P09", "开弦弓村江村文化园", "planned", "SH",
         _around(villages["开弦弓村"].representative_point(), 300.0, 220.0)),
        ("QD-P10", "七都大道东延拓宽", "done", "JS",
         LineString([(120.4300, 30.9455), (120.4555, 30.9405), (120.4715, 30.9395)])),
        ("QD-P11", "长漾村高标准农田建设", "done", "NY",
         _around(villages["长漾村"].representative_point(), 900.0, 700.0)),
        ("QD-P12", "应急避难场所扩建", "planned", "YJ", specials["QD-S05"].centroid),
    ]


def project_features(town: Town, grids: TownGrids) -> list[dict[str, Any]]:
    """The projects as GeoJSON features; each geometry cut to the town."""
    features = []
    for code, name, status, department, geometry in _projects(town, grids):
        inside = shapely.intersection(geometry, town.outline, grid_size=GRID_SIZE)
        if inside.is_empty or inside.geom_type.startswith(("Multi", "Geometry")):
            raise SystemExit(f"project {code} does not lie in one piece inside the town")
        features.append(feature(inside, {"code": code, "name": name, "status": status,
                                         "department": department}))
    return features
