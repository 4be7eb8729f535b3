"""The gazetteer: house numbers on both sides of each village's roads, rural 组 numbering in a
few villages, two town roads numbered across villages, and a few sub-numbers (18-1号).

Everything is laid out in metres and kept only where it falls inside its village's grid, so
every point lies in the level-2 grid its `village` column names.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from demo_town.common import coord, points_to_lonlat, to_metric
from demo_town.grids import Grid, TownGrids
from demo_town.names import INDUSTRIAL_ROADS, ROAD_NAMES, SHARED_ROADS
from demo_town.sites import QIDU, Locale, Site
from demo_town.town import Town

ADDRESS_HEADER = ("address", "lon", "lat", "village", "road", "number", "poi")
SIDE_M = 11.0  # from the road's centre line to a house
EDGE_M = 8.0  # houses keep this far inside their village
SUB_SHARE = 0.03  # houses split into 18-1号 and 18-2号 behind the front one
TOWN_ROAD_SPACING_M = 45.0


@dataclass(frozen=True)
class Address:
    """One row of addresses.csv (metres kept for placing POIs and incidents)."""

    address: str
    village: str
    road: str
    number: str
    poi: str
    x: float
    y: float
    lon: float = 0.0
    lat: float = 0.0


@dataclass
class VillageArea:
    """A village's grid in metres, shrunk a little for membership tests."""

    grid: Grid
    shape: Polygon
    inner: Polygon

    def holds(self, x: float, y: float) -> bool:
        """True when (x, y) is safely inside the village."""
        return bool(shapely.contains_xy(self.inner, x, y))

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        """A uniformly drawn point safely inside the village."""
        minx, miny, maxx, maxy = self.inner.bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if self.holds(x, y):
                return x, y


def village_areas(grids: TownGrids) -> list[VillageArea]:
    """Every village's grid in metres, with its shrunk copy prepared for point tests."""
    areas = []
    for grid in grids.villages:
        shape = to_metric(grid.geometry)
        inner = shape.buffer(-EDGE_M)
        shapely.prepare(inner)
        areas.append(VillageArea(grid, shape, inner))
    return areas


def _metric_site(lon: float, lat: float) -> tuple[float, float]:
    point = to_metric(Point(lon, lat))
    assert isinstance(point, Point)
    return point.x, point.y


def _road_line(rng: random.Random, start: tuple[float, float], length: float) -> LineString:
    """A road from `start`: straight stretches of 150–400 m turning by up to 30 degrees."""
    heading = rng.uniform(0.0, 2.0 * math.pi)
    points, walked = [start], 0.0
    while walked < length:
        step = rng.uniform(150.0, 400.0)
        x, y = points[-1]
        points.append((x + step * math.cos(heading), y + step * math.sin(heading)))
        walked += step
        heading += math.radians(rng.uniform(-30.0, 30.0))
    return LineString(points)


def _along(line: LineString, distances: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Points at the given distances along the line, `side` metres to its left."""
    here = shapely.get_coordinates(shapely.line_interpolate_point(line, distances))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, distances + 1.0))
    tangent = ahead - here
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    return here + normal * side[:, None]


def _houses(rng: random.Random, area: VillageArea, road: str, line: LineString, count: int,
            spacing: float, prefix: str) -> list[Address]:
    """Numbers 1..count along a road, odd on the left, even on the right, with sub-numbers."""
    numbers = np.arange(1, count + 1)
    distances = ((numbers + 1) // 2) * spacing
    side = np.where(numbers % 2 == 1, SIDE_M, -SIDE_M)
    front = _along(line, distances.astype(float), side)
    behind = _along(line, distances.astype(float), side * 1.8)
    village = area.grid.name
    houses = []
    for n, (x, y), (bx, by) in zip(numbers.tolist(), front, behind, strict=True):
        if not area.holds(x, y):
            continue
        houses.append(Address(f"{prefix}{road}{n}号", village, road, f"{n}号", "", x, y))
        if rng.random() < SUB_SHARE and area.holds(bx, by):
            for sub in (1, 2):
                sx, sy = x + (bx - x) * sub / 2, y + (by - y) * sub / 2
                houses.append(Address(f"{prefix}{road}{n}-{sub}号", village, road,
                                      f"{n}-{sub}号", "", sx, sy))
    return houses


def _group_houses(rng: random.Random, area: VillageArea, group: int,
                  prefix: str) -> list[Address]:
    """A hamlet (组): houses along a short lane, numbered 1..n."""
    x0, y0 = area.random_point(rng)
    heading = rng.uniform(0.0, math.pi)
    count = rng.randint(22, 45)
    village, road = area.grid.name, f"{group}组"
    houses = []
    for n in range(1, count + 1):
        along = (n - 1) // 2 * 16.0 - count * 4.0
        side = 9.0 if n % 2 else -9.0
        x = x0 + along * math.cos(heading) - side * math.sin(heading) + rng.uniform(-3, 3)
        y = y0 + along * math.sin(heading) + side * math.cos(heading) + rng.uniform(-3, 3)
        if area.holds(x, y):
            houses.append(Address(f"{prefix}{village}{road}{n}号", village, road,
                                  f"{n}号", "", x, y))
    return houses


def _road_names(rng: random.Random, areas: list[VillageArea],
                locale: Locale) -> dict[str, list[str]]:
    """Road names per village: own names, a shared name in some, park roads in the park's
    (the village holding the industrial hotspot, if any)."""
    pool = [r for r in ROAD_NAMES if r not in INDUSTRIAL_ROADS]
    rng.shuffle(pool)
    parks = [_holder(areas, s) for s in locale.hotspots if s.key == "industrial"]
    park = parks[0] if parks else None
    names: dict[str, list[str]] = {}
    for k, area in enumerate(areas):
        village = area.grid.name
        if village in locale.group_villages:
            continue
        count = rng.randint(6, 8) if village.endswith("社区") else rng.randint(4, 6)
        own = list(INDUSTRIAL_ROADS) if area is park else []
        own += [pool.pop() for _ in range(count - len(own))]
        if k % 3 == 0:
            own.append(SHARED_ROADS[(k // 3) % len(SHARED_ROADS)])
        names[village] = own
    return names


def _holder(areas: list[VillageArea], site: Site) -> VillageArea:
    x, y = _metric_site(site.lon, site.lat)
    return next(a for a in areas if shapely.contains_xy(a.shape, x, y))


def _village_roads(rng: random.Random, area: VillageArea, roads: list[str],
                   locale: Locale) -> list[Address]:
    """The houses of one village's own roads; roads of a village holding a hotspot (or the
    town seat) start there, so the busy places have addresses around them."""
    anchors = [_metric_site(s.lon, s.lat) for s in locale.hotspots]
    anchors.append(_metric_site(*locale.seat))
    mine = [p for p in anchors if area.holds(*p)]
    prefix = f"{locale.prefix}{area.grid.name}"
    houses: list[Address] = []
    for k, road in enumerate(roads):
        start = mine[k % len(mine)] if mine and k < 2 * len(mine) else area.random_point(rng)
        count = rng.randint(50, 110)
        spacing = rng.uniform(12.0, 20.0)
        line = _road_line(rng, start, (count // 2 + 2) * spacing)
        houses += _houses(rng, area, road, line, count, spacing, prefix)
    return houses


def _town_road(rng: random.Random, areas: list[VillageArea], road: str,
               line: LineString, prefix: str) -> list[Address]:
    """A town road numbered along its whole length; each house in the village it falls in."""
    count = int(line.length // TOWN_ROAD_SPACING_M) * 2
    houses = []
    for area in areas:
        for house in _houses(rng, area, road, line, count, TOWN_ROAD_SPACING_M, prefix):
            houses.append(house)
    return houses


def _town_road_lines(town: Town, locale: Locale) -> dict[str, LineString]:
    """The shore road 300 m inland along the shore (环湖大道), and the avenue through its stops
    (七都大道 from the harbour through the seat east)."""
    lines = {}
    if locale.shore_road:
        shore = to_metric(town.shore)
        assert isinstance(shore, LineString)
        outline = to_metric(town.outline)
        inland = shore.offset_curve(300.0)
        if not outline.contains(inland.interpolate(0.5, normalized=True)):
            inland = shore.offset_curve(-300.0)
        lines[locale.shore_road] = inland
    lines[locale.avenue] = LineString([_metric_site(lon, lat) for lon, lat in locale.avenue_stops])
    return lines


def build_addresses(rng: random.Random, town: Town, grids: TownGrids,
                    locale: Locale = QIDU) -> list[Address]:
    """Every house address of the town, lon/lat filled in, in a stable order."""
    areas = village_areas(grids)
    roads = _road_names(rng, areas, locale)
    houses: list[Address] = []
    for area in areas:
        if area.grid.name in locale.group_villages:
            for group in range(1, rng.randint(7, 10) + 1):
                houses += _group_houses(rng, area, group, locale.prefix)
        else:
            houses += _village_roads(rng, area, roads[area.grid.name], locale)
    for road, line in _town_road_lines(town, locale).items():
        houses += _town_road(rng, areas, road, line, locale.prefix)
    return with_lonlat(unique(houses))


def unique(rows: list[Address]) -> list[Address]:
    """The first row of every address text (two roads may cross where numbers repeat)."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row.address not in seen:
            seen.add(row.address)
            kept.append(row)
    return kept


def with_lonlat(rows: list[Address]) -> list[Address]:
    """The rows with lon/lat from their metres, rounded as written."""
    x = np.array([r.x for r in rows])
    y = np.array([r.y for r in rows])
    lon, lat = points_to_lonlat(x, y)
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    return [Address(r.address, r.village, r.road, r.number, r.poi, r.x, r.y, float(a), float(b))
            for r, a, b in zip(rows, lon.tolist(), lat.tolist(), strict=True)]


def address_rows(rows: list[Address]) -> list[list[str]]:
    """addresses.csv rows (without the header)."""
    return [[r.address, coord(r.lon), coord(r.lat), r.village, r.road, r.number, r.poi]
            for r in rows]
