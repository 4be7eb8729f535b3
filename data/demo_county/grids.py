"""The county's grids: the county (level 0, the union of its four towns), 七都 restated under
it, and each neighbour's villages (level 2) and grids (level 3), checked with the project's
validator together with 七都's own grids before anything is written.

The neighbours are laid out like 七都 (`partition.layout`: nested Voronoi cells of a seeded
population sample), then noded together in one pass on the written precision grid, so that
neighbours share identical vertices and every grid is a union of the same faces. 七都's edge
must gain no vertex (七都 is stored as it is): the neighbours' cell outlines stop BAND_M short
of it and are joined to the nearest vertex of that edge instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from demo_town.common import GRID_SIZE, TOWN_CODE, to_lonlat, to_metric
from demo_town.grids import Grid, TownGrids, single_polygon, town_hierarchy, unnoded, village_order
from demo_town.partition import Faces, assign_faces, layout
from demo_town.repair import adjacency, mend_cells, mend_villages
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from demo_county.towns import COUNTY_CODE, COUNTY_NAME, TOWNS, TownPlan
from grid_layers.validation import GridRecord, validate_hierarchy

BAND_M = 150.0  # how far short of 七都's edge the neighbours' cell outlines stop
PER_VILLAGE = (2, 5)  # level-3 grids per village
ON_LINE = 1e-9  # degrees: a point this close to a line lies on it


@dataclass
class CountyGrids:
    """The county grid, 七都's grids as stored (its outline under the county), and the
    neighbours' grids by town code."""

    county: Grid
    qidu: list[Grid]
    towns: dict[str, TownGrids]

    def written(self) -> list[Grid]:
        """What data/county/grids.geojson holds: the county, 七都's outline, the neighbours."""
        return [self.county, self.qidu[0], *(g for t in self.towns.values() for g in t.all())]

    def every(self) -> list[Grid]:
        """The whole county as it is stored after loading."""
        return [self.county, *self.qidu, *(g for t in self.towns.values() for g in t.all())]


def qidu_grids(features: list[dict[str, Any]]) -> list[Grid]:
    """七都's grids from data/demo/grids.geojson, the town first, its outline now under the
    county."""
    grids = []
    for feature in features:
        props = feature["properties"]
        parent = COUNTY_CODE if props["code"] == TOWN_CODE else props["parent_code"]
        grids.append(Grid(props["code"], props["name"], props["kind"], props["level"], parent,
                          shape(feature["geometry"]), props["households"], props["population"]))
    return sorted(grids, key=lambda g: g.code != TOWN_CODE)


def _keepout(qidu: Polygon) -> Polygon:
    """七都 and the band around it that the neighbours' cell outlines keep out of."""
    band = to_lonlat(to_metric(qidu).buffer(BAND_M, quad_segs=8))
    assert isinstance(band, Polygon)
    return band


def _shared_vertices(outline: Polygon, qidu: Polygon) -> np.ndarray:
    """七都's vertices on this outline (the only points its cell outlines may end at there)."""
    mine = {tuple(p) for p in shapely.get_coordinates(outline).tolist()}
    return np.array([p for p in shapely.get_coordinates(qidu).tolist() if tuple(p) in mine])


def _lines(cells: list[Polygon], outline: Polygon, qidu: Polygon,
           keepout: Polygon) -> list[BaseGeometry]:
    """The cells' outlines inside the town and out of the band, each end on the band joined
    straight to the nearest vertex of 七都's edge."""
    inner = shapely.difference(outline, keepout)
    edge = shapely.boundary(keepout)
    targets = _shared_vertices(outline, qidu)
    scale = np.array([np.cos(np.radians(outline.centroid.y)), 1.0])
    lines: list[BaseGeometry] = []
    for cell in cells:
        pieces = shapely.get_parts(shapely.intersection(shapely.boundary(cell), inner))
        for piece in pieces:
            if not isinstance(piece, LineString) or piece.is_empty:
                continue
            lines.append(piece)
            for end in (piece.coords[0], piece.coords[-1]):
                if len(targets) and shapely.distance(edge, Point(end)) < ON_LINE:
                    gap = (targets - np.array(end)) * scale
                    vertex = targets[int(np.argmin(np.hypot(gap[:, 0], gap[:, 1])))]
                    lines.append(LineString([end, tuple(vertex)]))
    return lines


def _town_grids(rng: random.Random, plan: TownPlan, faces: Faces) -> TownGrids:
    """A town's villages and grids from its faces (already mended)."""
    order = village_order(faces, len(plan.villages))
    return town_hierarchy(rng, faces, order, list(plan.villages), plan.code, plan.name,
                          COUNTY_CODE)


def build_county_grids(rng: random.Random, outlines: dict[str, Polygon],
                       qidu: list[Grid]) -> CountyGrids:
    """Every grid of the county, validated; SystemExit naming every problem otherwise."""
    town = qidu[0].geometry
    keepout = _keepout(town)
    layouts, lines = {}, []
    for plan in TOWNS:
        outline = outlines[plan.code]
        plan_m = layout(rng, to_metric(outline), to_metric(Point(plan.locale.seat)),
                        villages=len(plan.villages), cells=plan.cells, bounds=PER_VILLAGE)
        cells = [to_lonlat(c) for c in plan_m.cells]
        layouts[plan.code] = (cells, plan_m.village_of_cell)
        lines += [outline.exterior, *_lines(cells, outline, town, keepout)]
    noded = shapely.union_all(np.array(lines, dtype=object), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inner = shapely.point_on_surface(faces)
    towns = {}
    for plan in TOWNS:
        outline = outlines[plan.code]
        shapely.prepare(outline)
        mine = faces[shapely.contains(outline, inner)]
        cells, village_of_cell = layouts[plan.code]
        town_faces = Faces(mine, assign_faces(mine, cells), list(village_of_cell))
        near = adjacency(mine)
        mend_cells(town_faces, near)
        mend_villages(town_faces, near)
        towns[plan.code] = _town_grids(rng, plan, town_faces)
    whole = shapely.union_all([town, *(t.town.geometry for t in towns.values())],
                              grid_size=GRID_SIZE)
    county = Grid(COUNTY_CODE, COUNTY_NAME, "comprehensive", 0, None, single_polygon(whole),
                  sum(g.households or 0 for g in (qidu[0], *(t.town for t in towns.values()))),
                  sum(g.population or 0 for g in (qidu[0], *(t.town for t in towns.values()))))
    grids = CountyGrids(county, qidu, towns)
    check(grids)
    return grids


def check(grids: CountyGrids) -> None:
    """The project's validator over the whole county, the builder's counts and noding;
    SystemExit on any problem."""
    problems = [f"{p.type} {p.grids}: {p.message}" for p in validate_hierarchy(
        [GridRecord(g.code, g.name, g.kind, g.level, g.parent_code, g.geometry)
         for g in grids.every()])]
    for plan in TOWNS:
        town = grids.towns[plan.code]
        per_village = [len(town.cells_of(v.code)) for v in town.villages]
        low, high = PER_VILLAGE
        if len(town.cells) != plan.cells or not low <= min(per_village) <= max(per_village) <= high:
            problems.append(f"{plan.code}: {per_village} grids per village")
        problems += unnoded(town)
    towns = [grids.qidu[0], *(t.town for t in grids.towns.values())]
    problems += unnoded(TownGrids(grids.county, towns, [], []))
    problems += _off_qidu(grids)
    if problems:
        raise SystemExit("the demo county's grids are not valid:\n  " + "\n  ".join(problems))


def _off_qidu(grids: CountyGrids) -> list[str]:
    """Neighbours' vertices on 七都's outline that are not its vertices (七都 cannot take them)."""
    qidu = grids.qidu[0].geometry
    vertices = {tuple(p) for p in shapely.get_coordinates(qidu).tolist()}
    problems = []
    for town in grids.towns.values():
        for grid in town.all():
            coords = shapely.get_coordinates(grid.geometry)
            on_edge = shapely.distance(qidu.exterior, shapely.points(coords)) < ON_LINE
            extra = [tuple(p) for p in coords[on_edge].tolist() if tuple(p) not in vertices]
            if extra:
                problems.append(f"{grid.code}: {len(extra)} vertices on 七都's edge are not "
                                f"its vertices, e.g. {extra[0]}")
    return problems
