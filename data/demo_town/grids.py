"""The town's grids (1 + 18 + 64 + N) and enforcement districts, built from one set of faces and
checked with the project's own validator before anything is written."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from demo_town.common import TOWN_CODE, TOWN_NAME, feature, rounded
from demo_town.partition import VILLAGES, Faces, build_faces
from demo_town.repair import adjacency, components, mend_cells, mend_villages
from demo_town.sites import HOTSPOTS, TOWN_SEAT, special_sites
from demo_town.town import Town
from grid_layers.validation import GridRecord, validate_hierarchy

# village names by the place they hold; the rest in order (names of the real town's villages)
NAMED_BY_SITE = {"harbour": "庙港社区", "seat": "七都社区", "industrial": "浦江源社区",
                 "scenic": "望湖村"}
OTHER_VILLAGES = ("开弦弓村", "吴溇村", "东庙桥村", "群幸村", "联强村", "沧浦村", "丰民村",
                  "隐读村", "双塔桥村", "庙港村", "太湖村", "金星村", "光荣村", "长漾村")
PERSONS_PER_HOUSEHOLD = (2.6, 3.3)


@dataclass
class Grid:
    """One grid as written to grids.geojson."""

    code: str
    name: str
    kind: str
    level: int | None
    parent_code: str | None
    geometry: Polygon
    households: int | None = None
    population: int | None = None

    def record(self) -> GridRecord:
        """The validator's view of this grid."""
        return GridRecord(self.code, self.name, self.kind, self.level, self.parent_code,
                          self.geometry)

    def feature(self) -> dict[str, Any]:
        """The GeoJSON feature with the contract's fields."""
        return feature(self.geometry, {
            "code": self.code, "name": self.name, "kind": self.kind, "level": self.level,
            "parent_code": self.parent_code, "households": self.households,
            "population": self.population})


@dataclass
class District:
    """An enforcement district: whole villages, one squad."""

    code: str
    name: str
    squad_code: str
    squad_name: str
    villages: list[str]
    geometry: Polygon

    def feature(self) -> dict[str, Any]:
        """The GeoJSON feature with the contract's fields."""
        return feature(self.geometry, {
            "code": self.code, "name": self.name, "squad_code": self.squad_code,
            "squad_name": self.squad_name, "villages": ";".join(self.villages)})


@dataclass
class TownGrids:
    """Every grid of the town, parents before children."""

    town: Grid
    villages: list[Grid]
    cells: list[Grid]
    specials: list[Grid]
    districts: list[District] = field(default_factory=list)

    def all(self) -> list[Grid]:
        """The grids in file order."""
        return [self.town, *self.villages, *self.cells, *self.specials]

    def cells_of(self, village_code: str) -> list[Grid]:
        """The level-3 grids of one village."""
        return [c for c in self.cells if c.parent_code == village_code]


def single_polygon(geometry: BaseGeometry) -> Polygon:
    """The geometry, rounded, as one polygon; SystemExit when it is not one."""
    result = rounded(geometry)
    if not isinstance(result, Polygon):
        raise SystemExit(f"expected one polygon, got {result.geom_type}")
    return result


def village_order(faces: Faces, count: int = VILLAGES) -> list[int]:
    """The `count` villages numbered north to south, west to east within a band of about
    3 km."""
    village_of_face = np.array(faces.village_of_cell)[faces.cell]
    keys = []
    for v in range(count):
        centre = shapely.centroid(faces.union(village_of_face == v))
        keys.append((-round(centre.y / 0.027), centre.x, v))
    return [k[2] for k in sorted(keys)]


def _names(villages: list[Polygon]) -> list[str]:
    """A name per village: the village nearest a known place (not yet named) takes its name,
    the others follow in order."""
    places = {"seat": Point(TOWN_SEAT), **{s.key: Point(s.lon, s.lat) for s in HOTSPOTS}}
    names: list[str | None] = [None] * len(villages)
    for key, name in NAMED_BY_SITE.items():
        free = [i for i, n in enumerate(names) if n is None]
        index = min(free, key=lambda i: (villages[i].distance(places[key]), i))
        names[index] = name
    others = iter(OTHER_VILLAGES)
    return [n if n is not None else next(others) for n in names]


def cell_grids(rng: random.Random, faces: Faces, village: Grid, index: int) -> list[Grid]:
    """The level-3 grids of the village made of the cells of village `index`, numbered north
    to south, with households and population."""
    cells = [c for c in range(len(faces.village_of_cell)) if faces.village_of_cell[c] == index]
    shapes = [faces.union(faces.cell == c) for c in cells]
    order = sorted(range(len(cells)), key=lambda k: (-round(shapes[k].centroid.y / 0.009),
                                                     shapes[k].centroid.x))
    grids = []
    for number, k in enumerate(order, start=1):
        households = rng.randint(300, 600)
        population = round(households * rng.uniform(*PERSONS_PER_HOUSEHOLD))
        grids.append(Grid(f"{village.code}-{number:02d}", f"{village.name}第{number}网格",
                          "comprehensive", 3, village.code, single_polygon(shapes[k]), households,
                          population))
    return grids


def _specials(town: Town, faces: Faces, near: dict[int, dict[int, float]]) -> list[Grid]:
    inner = shapely.point_on_surface(faces.shapes)
    grids = []
    for site in special_sites(town):
        members = np.flatnonzero(shapely.within(inner, site.outline)).tolist()
        area = shapely.area(faces.shapes)
        group = max(components(members, near), key=lambda g: float(area[g].sum()))
        shape = faces.union(np.isin(np.arange(len(faces.shapes)), group))
        grids.append(Grid(site.code, site.name, site.kind, None, TOWN_CODE, single_polygon(shape)))
    return grids


def town_hierarchy(rng: random.Random, faces: Faces, order: list[int], names: list[str],
                   code: str, name: str, parent: str | None) -> TownGrids:
    """A town's villages (faces' villages in `order`, named by `names`) and their grids, and
    the town as their union (no special grids yet)."""
    village_of_face = np.array(faces.village_of_cell)[faces.cell]
    villages, cells = [], []
    for number, (v, village_name) in enumerate(zip(order, names, strict=True), start=1):
        village = Grid(f"{code}-{number:02d}", village_name, "comprehensive", 2, code,
                       single_polygon(faces.union(village_of_face == v)))
        mine = cell_grids(rng, faces, village, v)
        village.households = sum(c.households or 0 for c in mine)
        village.population = sum(c.population or 0 for c in mine)
        villages.append(village)
        cells += mine
    whole = single_polygon(faces.union(np.ones(len(faces.shapes), dtype=bool)))
    town = Grid(code, name, "comprehensive", 1, parent, whole,
                sum(v.households or 0 for v in villages),
                sum(v.population or 0 for v in villages))
    return TownGrids(town, villages, cells, [])


def build_grids(rng: random.Random, town: Town) -> TownGrids:
    """All grids of the town, validated; SystemExit naming every problem otherwise."""
    outlines = [s.outline for s in special_sites(town)]
    faces = build_faces(rng, town.outline, Point(TOWN_SEAT), outlines)
    near = adjacency(faces.shapes)
    mend_cells(faces, near)
    mend_villages(faces, near)
    order = village_order(faces)
    village_of_face = np.array(faces.village_of_cell)[faces.cell]
    names = _names([single_polygon(faces.union(village_of_face == v)) for v in order])
    grids = town_hierarchy(rng, faces, order, names, TOWN_CODE, TOWN_NAME, None)
    grids.specials = _specials(town, faces, near)
    check(grids)
    return grids


def check(grids: TownGrids) -> None:
    """The project's validator and the builder's own counts; SystemExit on any problem."""
    problems = [f"{p.type} {p.grids}: {p.message}" for p in validate_hierarchy(
        [g.record() for g in grids.all()])]
    per_village = [len(grids.cells_of(v.code)) for v in grids.villages]
    if len(grids.villages) != 18 or len(grids.cells) != 64:
        problems.append(f"{len(grids.villages)} villages and {len(grids.cells)} cells")
    if min(per_village) < 2 or max(per_village) > 6:
        problems.append(f"cells per village {per_village} outside 2..6")
    problems += unnoded(grids)
    if problems:
        raise SystemExit("the demo grids are not valid:\n  " + "\n  ".join(problems))


def unnoded(grids: TownGrids) -> list[str]:
    """Children's vertices on their parent's boundary that the parent lacks (for the parents
    among these grids)."""
    by_code = {g.code: g for g in grids.all()}
    problems = []
    for child in grids.all():
        if child.parent_code not in by_code:
            continue
        parent = by_code[child.parent_code].geometry
        vertices = {tuple(p) for p in shapely.get_coordinates(parent).tolist()}
        coords = shapely.get_coordinates(child.geometry)
        on_edge = shapely.distance(parent.exterior, shapely.points(coords)) < 1e-9
        missing = [tuple(p) for p in coords[on_edge].tolist() if tuple(p) not in vertices]
        if missing:
            problems.append(f"{child.code}: {len(missing)} vertices on {child.parent_code}'s "
                            f"boundary are not its vertices, e.g. {missing[0]}")
    return problems
