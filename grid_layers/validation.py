"""Validate nested grids (a county, its towns, their two levels): exact tiling per level,
containment, slivers, codes, parents.

Overlays (intersection, difference, union) run in lon/lat, the CRS the boundaries are stored and
located in: an edge is straight in lon/lat, so a vertex lying on a neighbour's edge in lon/lat is
a clean shared boundary there. The same data overlaid after projection shows spurious slivers
(about 5 m² along a 1 km east-west edge near Suzhou) because projected parallels curve. Every
area and width is measured in metres, projecting the pieces in one call to the Gauss-Kruger zone
of the set's mean longitude.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from grid_layers.hierarchy import (
    COMPREHENSIVE,
    LEVELS,
    PROBLEM_TYPES,
    GridRecord,
    Problem,
    RecordCheck,
    Tolerances,
    check_records,
    shape_defect,
)
from grid_layers.metric import POLYGON_TYPE_ID, Metric, objects
from grid_layers.wording import level_name

__all__ = [
    "PROBLEM_TYPES",
    "GridRecord",
    "Problem",
    "Tolerances",
    "find_overlaps",
    "validate_hierarchy",
]

# (normal, sliver) message templates per piece type, in the words a planner reads
_FORMATS = {
    "gap": ("缝隙 {area}：{text}", "狭长缝隙，宽 {width}（{area}）：{text}"),
    "overlap": ("重叠 {area}：{text}", "狭长重叠，宽 {width}（{area}）：{text}"),
    "outside_parent": ("超出上级 {area}：{text}", "狭长超出，宽 {width}（{area}）：{text}"),
}


@dataclass(frozen=True)
class _Piece:
    type: str  # gap, overlap or outside_parent
    codes: tuple[str, ...]  # grids the piece belongs to in any case
    level: int | None  # comprehensive level whose grids bordering a sliver are its neighbours
    geometry: BaseGeometry  # lon/lat
    text: str  # the end of the message, saying where
    parent: str | None = None  # for gaps: only this grid's children are neighbours


def _overlaps(codes: Sequence[str], geoms: np.ndarray, level: int | None) -> list[_Piece]:
    """Pairwise overlaps among geoms; candidate pairs from an STRtree, not all pairs."""
    if len(geoms) < 2:
        return []
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    a, b = a[a < b], b[a < b]
    # interiors meet ("T********"): neighbours that only share an edge need no overlay
    inner = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    a, b = a[inner], b[inner]
    pieces = []
    for i, j, both in zip(a, b, shapely.intersection(geoms[a], geoms[b]), strict=True):
        pair = tuple(sorted((codes[i], codes[j])))
        pieces.append(_Piece("overlap", pair, level, both, f"{pair[0]} 与 {pair[1]} 之间"))
    return pieces


@dataclass(frozen=True)
class _Neighbour:
    code: str
    level: int | None
    parent: str | None
    shape: BaseGeometry  # metres


def _bordering(
    pieces: list[_Piece],
    owner: np.ndarray,
    shapes: np.ndarray,
    width: np.ndarray,
    neighbours: Sequence[_Neighbour],
    tol: Tolerances,
) -> dict[int, set[str]]:
    """Codes of the grids bordering each sliver or gap part (shapes in metres)."""
    want = np.array(
        [
            k
            for k, w in enumerate(width)
            if w < tol.sliver_width_m or pieces[owner[k]].type == "gap"
        ],
        dtype=int,
    )
    if not len(neighbours) or not len(want):
        return {}
    # the tree holds the small parts and each detailed neighbour is the (prepared) query:
    # the other way round a messy file's 100,000 slivers took 78 s against 80 detailed grids
    near = objects([n.shape for n in neighbours])
    t, found = shapely.STRtree(shapes[want]).query(near, predicate="dwithin",
                                                  distance=tol.touch_distance_m)
    k = want[found]
    fits = [
        pieces[owner[a]].level == neighbours[b].level
        and pieces[owner[a]].parent in (None, neighbours[b].parent)
        for a, b in zip(k, t, strict=True)
    ]
    k, t = k[np.array(fits, dtype=bool)], t[np.array(fits, dtype=bool)]
    # a neighbour must share a stretch of boundary longer than twice the part's width (at most
    # sliver_width_m): a grid touching only a sliver's end, or a corner, is not named
    zones = shapely.buffer(shapes[k], tol.touch_distance_m, quad_segs=2)
    edges = shapely.boundary(near)[t]
    shared = shapely.length(shapely.intersection(edges, zones))
    enough = shared > np.minimum(2.0 * width[k], tol.sliver_width_m)
    nearby: dict[int, set[str]] = {}
    for a, b in zip(k[enough], t[enough], strict=True):
        nearby.setdefault(int(a), set()).add(neighbours[b].code)
    return nearby


def _report(
    pieces: list[_Piece], metric: Metric, tol: Tolerances, neighbours: Sequence[_Neighbour]
) -> list[Problem]:
    """Split pieces into connected parts, drop noise, and turn the rest into problems."""
    if not pieces:
        return []
    parts, owner, shapes, area, width = metric.polygons(objects([p.geometry for p in pieces]))
    keep = area > tol.noise_area_m2
    parts, owner, shapes, area, width = (x[keep] for x in (parts, owner, shapes, area, width))
    nearby = _bordering(pieces, owner, shapes, width, neighbours, tol)
    problems = []
    for k, part in enumerate(parts):
        piece = pieces[owner[k]]
        sliver = bool(width[k] < tol.sliver_width_m)
        codes = set(piece.codes)
        if sliver or piece.type == "gap":
            codes |= nearby.get(k, set())  # say which grids border the uncovered or thin part
        text = _FORMATS[piece.type][int(sliver)].format(
            area=f"{area[k]:.1f} m²", width=f"{width[k]:.2f} m", text=piece.text
        )
        kind = "sliver" if sliver else piece.type
        problems.append(Problem(kind, tuple(sorted(codes)), float(area[k]), part, text))
    return problems


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The valid polygonal part of a geometry, repaired if needed (for gap coverage only)."""
    if shape_defect(geometry) is not None:
        return shapely.Polygon()  # empty, not polygonal or not lon/lat: nothing it could cover
    repaired = shapely.get_parts(shapely.get_parts(shapely.make_valid(geometry)))
    return shapely.union_all(repaired[shapely.get_type_id(repaired) == POLYGON_TYPE_ID])


class _Checker:
    """Geometric checks on the usable grids of one set."""

    def __init__(self, grids: Sequence[GridRecord], rec: RecordCheck, tol: Tolerances) -> None:
        self.grids, self.rec, self.tol = grids, rec, tol
        self.geoms = objects([g.geometry for g in grids])
        # usable: valid geometry and attributes, and the first record of its code
        self.usable = [
            i
            for i, g in enumerate(grids)
            if rec.attrs_ok[i] and rec.geometry_ok[i] and rec.first[g.code] == i
        ]
        self.metric = Metric(self.geoms[self.usable])
        projected = self.metric.project(self.geoms[self.usable])
        self.shapes = dict(zip(self.usable, projected, strict=True))  # metres, projected once
        self.contained: set[int] = set()  # children known to lie inside their parent

    def _members(self, level: int) -> list[int]:
        grids = self.grids
        return [
            i for i in self.usable if grids[i].kind == COMPREHENSIVE and grids[i].level == level
        ]

    def parts(self) -> list[Problem]:
        """Thin polygon components are slivers; several solid ones are not_contiguous."""
        parts, owner, _, area, width = self.metric.polygons(self.geoms[self.usable])
        problems = []
        for k, i in enumerate(self.usable):
            code = self.grids[i].code
            mine = np.flatnonzero((owner == k) & (area > self.tol.noise_area_m2))
            for j in mine[width[mine] < self.tol.sliver_width_m]:
                text = f"网格 {code} 有一处宽仅 {width[j]:.2f} m 的狭长部分（{area[j]:.1f} m²）"
                problems.append(Problem("sliver", (code,), float(area[j]), parts[j], text))
            solid = mine[width[mine] >= self.tol.sliver_width_m]
            if len(solid) > 1 and not self.grids[i].multipart_allowed:
                apart = solid[np.argsort(-area[solid], kind="stable")[1:]]
                size = float(area[apart].sum())
                text = (
                    f"网格 {code} 分成互不相连的 {len(solid)} 块；"
                    f"{size:.1f} m² 与其最大的一块不相连"
                )
                geometry = shapely.union_all(parts[apart])
                problems.append(Problem("not_contiguous", (code,), size, geometry, text))
        return problems

    def outside(self) -> list[_Piece]:
        """The part of each child (special grids included) outside its parent."""
        usable = set(self.usable)
        pairs = [(c, p) for c, p in self.rec.links.items() if c in usable and p in usable]
        if not pairs:
            return []
        child, parent = (np.array(x, dtype=int) for x in zip(*pairs, strict=True))
        shapely.prepare(self.geoms[parent])
        # a cheap prepared test spares the overlay for the usual, contained child
        out = ~shapely.covers(self.geoms[parent], self.geoms[child])
        self.contained = set(child[~out].tolist())
        child, parent = child[out], parent[out]
        pieces = []
        for c, p, diff in zip(
            child, parent, shapely.difference(self.geoms[child], self.geoms[parent]), strict=True
        ):
            grid, pcode = self.grids[c], self.grids[p].code
            level = grid.level if grid.kind == COMPREHENSIVE else None
            text = f"{grid.code} 有部分位于上级网格 {pcode} 之外"
            pieces.append(_Piece("outside_parent", (grid.code, pcode), level, diff, text))
        return pieces

    def gaps(self) -> list[_Piece]:
        """Parent area not covered by its children; invalid children cover with their repaired
        shape so that their area is not reported twice. Run after outside()."""
        present = {g.level for g in self.grids if g.kind == COMPREHENSIVE}
        usable = set(self.usable)
        families = []
        for p in self._members(0) + self._members(1) + self._members(2):
            level = (self.grids[p].level or 0) + 1
            kids = [c for c, q in self.rec.links.items() if q == p and self.grids[c].level == level]
            if kids or level in present:  # childless is a gap only where the level is in use
                cover = [self.geoms[c] if c in usable else _polygonal(self.geoms[c]) for c in kids]
                families.append((p, level, kids, shapely.union_all(cover)))
        if not families:
            return []
        covered = shapely.area(self.metric.project(objects([f[3] for f in families])))
        pieces = []
        for (p, level, kids, cover), area in zip(families, covered, strict=True):
            # children all inside their parent: the area difference bounds every gap part, and
            # is much cheaper than the overlay of two nearly equal detailed shapes
            inside = bool(kids) and self.contained.issuperset(kids)
            if inside and shapely.area(self.shapes[p]) - area <= self.tol.noise_area_m2:
                continue
            code = self.grids[p].code
            text = f"{code} 内有区域未被其{level_name(level)}覆盖"
            gap = self.geoms[p].difference(cover)
            pieces.append(_Piece("gap", (code,), level, gap, text, parent=code))
        return pieces

    def run(self) -> list[Problem]:
        """All geometric checks."""
        pieces = self.outside() + self.gaps()
        for level in LEVELS:
            members = self._members(level)
            pieces += _overlaps([self.grids[i].code for i in members], self.geoms[members], level)
        neighbours = [
            _Neighbour(g.code, g.level, g.parent_code, self.shapes[i])
            for i, g in ((i, self.grids[i]) for i in self.usable)
            if g.kind == COMPREHENSIVE
        ]
        return self.parts() + _report(pieces, self.metric, self.tol, neighbours)


def _sort_key(problem: Problem) -> tuple[str, tuple[str, ...], float, tuple[float, float], str]:
    # type then codes (as callers sort), larger first, then place and text for a total order
    where = problem.location or (float("inf"), float("inf"))
    return (problem.type, problem.grids, -problem.area_m2, where, problem.message)


def validate_hierarchy(
    grids: Sequence[GridRecord], tolerances: Tolerances = Tolerances()
) -> list[Problem]:
    """Check a set of grids for every PROBLEM_TYPES defect; problems sorted by type, codes."""
    records = check_records(grids)
    problems = list(records.problems)
    checker = _Checker(grids, records, tolerances)
    if checker.usable:
        problems += checker.run()
    return sorted(problems, key=_sort_key)


def find_overlaps(
    geometries: Mapping[str, BaseGeometry], tolerances: Tolerances = Tolerances()
) -> list[Problem]:
    """Overlaps (or sliver overlaps) among valid lon/lat polygons that must not overlap."""
    codes = sorted(geometries)
    if not codes:
        return []
    geoms = objects([geometries[c] for c in codes])
    metric = Metric(geoms)
    shapes = metric.project(geoms)
    neighbours = [_Neighbour(c, None, None, s) for c, s in zip(codes, shapes, strict=True)]
    pieces = _overlaps(codes, geoms, None)
    return sorted(_report(pieces, metric, tolerances, neighbours), key=_sort_key)
