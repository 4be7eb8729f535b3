"""The geometry of plan edits: snapping a redrawn grid to its neighbours, and the split, merge,
move and transfer operations, in lon/lat (EPSG:4490) as stored.

Every operation is built so that the touched grids keep sharing their edges exactly: a piece
given from one grid to another is cut once (A ∩ piece) and both sides are made from that one
cut (A - cut, B ∪ cut), so no sliver opens between them. Sizes (areas, widths) are measured in
metres in the local Gauss-Kruger zone, with the thresholds validation uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_by_line

from grid_layers.crs import to_metric_transformer
from grid_layers.hierarchy import Tolerances

SNAP_TOLERANCE_M = 1.0  # vertices this close to a neighbour's boundary are meant to be on it
# A vertex this close to another grid's edge lies on it (node). A computed crossing sits about
# 1e-10 m off its edge (GEOS' snapping fallback, 1e-12 of the coordinates, ~1e-5 m); 1 mm
# was too much: it put a split's crossing into the edge of a grid 0.5 mm away as well, opening
# a 0.1 m² overlap between two others (1 of 200 random splits of the demo town).
NODE_TOLERANCE_M = 1e-4
_TOL = Tolerances()
_METRES_PER_DEGREE = 111_320.0  # along a meridian; a parallel's degree is this times cos(lat)
_POLYGON = 3


class EditError(ValueError):
    """An edit that cannot be made as asked; the message says why, in plain words."""


def degrees(metres: float, lat: float) -> float:
    """A distance in metres as degrees at a latitude: the longer (east-west) reading, so a
    tolerance in degrees covers at least `metres` in every direction."""
    return metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))


def polygons(geometry: BaseGeometry) -> list[Polygon]:
    """The non-empty polygon parts of any geometry (collections flattened)."""
    parts = shapely.get_parts(shapely.get_parts(geometry))
    return [p for p in parts if shapely.get_type_id(p) == _POLYGON and not p.is_empty]


def _sizes(parts: Sequence[BaseGeometry]) -> tuple[np.ndarray, np.ndarray]:
    """Areas (m²) and mean widths (2 * area / perimeter, m) of lon/lat geometries."""
    if not parts:
        return np.zeros(0), np.zeros(0)
    array = np.empty(len(parts), dtype=object)
    array[:] = list(parts)
    bounds = shapely.bounds(array)
    transformer = to_metric_transformer(float(np.mean((bounds[:, 0] + bounds[:, 2]) / 2.0)))

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    metric = shapely.transform(array, forward)
    area = shapely.area(metric)
    return area, 2.0 * area / np.maximum(shapely.length(metric), 1e-12)


def area_m2(geometry: BaseGeometry) -> float:
    """The area of a lon/lat geometry in square metres."""
    return float(_sizes(polygons(geometry))[0].sum())


def negligible(geometry: BaseGeometry) -> bool:
    """True when every part is noise or a sliver (thinner than validation's sliver width)."""
    area, width = _sizes(polygons(geometry))
    return bool(((area <= _TOL.noise_area_m2) | (width < _TOL.sliver_width_m)).all())


def solid_parts(geometry: BaseGeometry) -> int:
    """How many parts are neither noise nor slivers: more than one is not contiguous."""
    area, width = _sizes(polygons(geometry))
    return int(((area > _TOL.noise_area_m2) & (width >= _TOL.sliver_width_m)).sum())


def _thin(geometry: BaseGeometry) -> BaseGeometry:
    """The parts of a geometry that are slivers or noise, as one geometry."""
    parts = polygons(geometry)
    area, width = _sizes(parts)
    thin = [p for p, a, w in zip(parts, area, width, strict=True)
            if a <= _TOL.noise_area_m2 or w < _TOL.sliver_width_m]
    return shapely.union_all(thin) if thin else Polygon()


def clean(geometry: BaseGeometry) -> BaseGeometry:
    """A valid (Multi)Polygon without noise parts or noise holes (below 0.01 m²)."""
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    parts = polygons(geometry)
    area, _ = _sizes(parts)
    kept = []
    for part, size in zip(parts, area, strict=True):
        if size <= _TOL.noise_area_m2:
            continue
        holes = [h for h in part.interiors if area_m2(Polygon(h)) > _TOL.noise_area_m2]
        kept.append(Polygon(part.exterior, holes) if len(holes) < len(part.interiors) else part)
    if not kept:
        return Polygon()
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


def snap_to_neighbours(shape: BaseGeometry, *, neighbours: Sequence[BaseGeometry],
                       parent: BaseGeometry | None,
                       tolerance_m: float = SNAP_TOLERANCE_M) -> BaseGeometry:
    """A redrawn grid fitted to the grids it must tile with, so that no sliver opens.

    The rule, in order (the neighbours are the grid's siblings: same level and parent):
    1. every vertex within `tolerance_m` of a vertex of a neighbour's or the parent's boundary
       moves onto it (shapely.snap): an edge dragged by a hand's jitter lands back on the
       shared edge exactly;
    2. any overlap with a neighbour that is a sliver (mean width under 1 m) or noise is cut
       from the redrawn grid, and so is a thin part outside its parent;
    3. any gap left between the redrawn grid, its neighbours and the parent's edge that is a
       sliver and touches the redrawn grid is added to it.
    Larger overlaps and gaps are real disagreements: they stay, and validation shows them.
    The neighbours are never changed: the grid being drawn gives way.
    """
    tol = degrees(tolerance_m, shape.centroid.y)
    references = [g for g in (*neighbours, parent) if g is not None and not g.is_empty]
    if references:
        edges = shapely.union_all([g.boundary for g in references])
        shape = clean(shapely.snap(shape, edges, tol))
    others = shapely.union_all(list(neighbours)) if neighbours else Polygon()
    shape = clean(shape.difference(_thin(shape.intersection(others))))
    if parent is not None:
        shape = clean(shape.difference(_thin(shape.difference(parent))))
        gaps = _thin(parent.difference(shape).difference(others))
        near = [g for g in polygons(gaps) if g.distance(shape) <= tol / 100.0]
        if near:
            shape = clean(shapely.union_all([shape, *near]))
    return shape


def node(shapes: Mapping[str, BaseGeometry], changed: Iterable[str], *,
         tolerance_m: float = NODE_TOLERANCE_M) -> dict[str, BaseGeometry]:
    """The grids that must take new vertices so that the changed grids and every grid they
    touch (any level or kind) share their edges vertex for vertex: each vertex within
    `tolerance_m` of another grid's edge becomes a vertex of that grid too (shapely.snap, the
    changed grids first, then those they touch onto them). Returns only the shapes that changed.

    An edit's new vertex on a neighbour's, parent's or town's edge (where a split line
    crosses it, a cut of a move, a redrawn grid's corner) lies on that edge only to within
    floating point, and the other side lacks it: exact overlays in lon/lat see nothing, but
    measured in metres the straight lon/lat edge curves, so the hair's-width triangle between
    the two sides showed as a sliver gap of 0.2-7 m², and any rounding of coordinates (an
    export, another tool) opens it into real slivers. Noded, both sides round alike.
    """
    codes = list(shapes)
    changed = [c for c in dict.fromkeys(changed) if c in shapes and not shapes[c].is_empty]
    if not changed or len(codes) < 2:
        return {}
    geoms = np.empty(len(codes), dtype=object)
    geoms[:] = [shapes[c] for c in codes]
    tol = degrees(tolerance_m, float(np.mean(shapely.bounds(geoms)[:, [1, 3]])))
    edges = shapely.boundary(geoms)
    index = {c: i for i, c in enumerate(codes)}
    mine = np.array([index[c] for c in changed])
    found, near = shapely.STRtree(edges).query(edges[mine], predicate="dwithin", distance=tol)
    around: dict[int, set[int]] = {int(i): set() for i in mine}  # changed -> all they touch
    touched: dict[int, set[int]] = {}  # unchanged -> the changed grids touching it
    for a, b in zip(mine[found].tolist(), near.tolist(), strict=True):
        if a != b:
            around[a].add(b)
            if b not in around:
                touched.setdefault(b, set()).add(a)
    noded: dict[int, BaseGeometry] = {}

    def snap(i: int, others: set[int]) -> None:
        reference = shapely.GeometryCollection(
            [shapely.boundary(noded[j]) if j in noded else edges[j] for j in sorted(others)])
        snapped = shapely.snap(geoms[i], reference, tol)
        if not shapely.equals_exact(snapped, geoms[i], tolerance=0.0):
            noded[i] = snapped if snapped.is_valid else clean(snapped)

    for i, others in around.items():  # the changed grids take the vertices of all they touch
        snap(i, others)
    for j, by in touched.items():  # then the grids they touch take theirs, as noded
        snap(j, by)
    return {codes[i]: geometry for i, geometry in noded.items()}


def _extended(line: LineString, by: float) -> LineString:
    """The line with both ends pushed out by `by` (degrees) along their end segments, so a
    line drawn up to a boundary crosses it."""
    coords = np.asarray(line.coords, dtype=float)[:, :2]
    for end, nxt in ((0, 1), (-1, -2)):
        step = coords[end] - coords[nxt]
        norm = float(np.hypot(*step))
        if norm > 0:
            coords[end] = coords[end] + step / norm * by
    return LineString(coords)


def _left_of(line: LineString, point: Point) -> bool:
    """Whether a point lies left of the line as drawn (from its first to its last vertex)."""
    at = line.project(point)
    eps = line.length / 1000.0
    a = line.interpolate(max(at - eps, 0.0))
    b = line.interpolate(min(at + eps, line.length))
    return bool((b.x - a.x) * (point.y - a.y) - (b.y - a.y) * (point.x - a.x) > 0)


@dataclass(frozen=True)
class Split:
    """A grid cut in two: the piece left of the line as drawn, then the right one, and which
    piece (0 or 1) each child now lies in."""

    left: BaseGeometry
    right: BaseGeometry
    children: dict[str, int]


def split(shape: BaseGeometry, line: LineString, *,
          children: Mapping[str, BaseGeometry] | None = None,
          tolerance_m: float = SNAP_TOLERANCE_M) -> Split:
    """Cut a one-piece grid by a drawn line into exactly two pieces.

    The line is first snapped to the grid's and its children's vertices within `tolerance_m`
    and its ends pushed out by twice that, so a line drawn along children's edges and up to
    the boundary cuts cleanly. A grid with children (a level-2 grid) must be cut between
    them: each child goes whole to the piece holding it (its part in the other piece may be
    only a sliver), and the pieces are then rebuilt from the children (right = its children,
    left = the rest), so they follow the children's edges exactly.
    """
    if len(polygons(shape)) != 1:
        raise EditError("只有连成一块的网格才能拆分")
    kids = dict(children or {})
    tol = degrees(tolerance_m, shape.centroid.y)
    reference = shapely.union_all([shape.boundary, *(k.boundary for k in kids.values())])
    cutter = _extended(LineString(shapely.snap(line, reference, tol)), 2 * tol)
    pieces = [p for p in polygons(split_by_line(clean(shape), cutter))
              if area_m2(p) > _TOL.noise_area_m2]
    if len(pieces) != 2:
        raise EditError(f"这条线把网格切成了 {len(pieces)} 块，而不是两块")
    if _left_of(cutter, pieces[1].point_on_surface()):
        pieces.reverse()
    if any(solid_parts(p) == 0 for p in pieces):
        raise EditError("这条线只切下一条狭长碎片")
    if not kids:
        return Split(pieces[0], pieces[1], {})
    where = {code: _holder(code, kid, pieces) for code, kid in kids.items()}
    right = [kids[c] for c, i in where.items() if i == 1]
    if not right or len(right) == len(kids):
        raise EditError("拆分后有一块不含任何三级网格")
    right_shape = clean(shapely.union_all(right))
    return Split(clean(shape.difference(right_shape)), right_shape, where)


def _holder(code: str, child: BaseGeometry, pieces: Sequence[BaseGeometry]) -> int:
    """Which piece holds a child whole; an error if the line runs through the child."""
    inside = [area_m2(child.intersection(p)) for p in pieces]
    best = int(np.argmax(inside))
    if not negligible(child.difference(pieces[best])):
        raise EditError(f"这条线穿过了三级网格 {code}；请沿三级网格的边界画线")
    return best


def shared_edge_m(a: BaseGeometry, b: BaseGeometry) -> float:
    """How long a stretch of boundary two grids share, in metres (1 cm tolerance)."""
    near = a.boundary.intersection(b.boundary.buffer(degrees(0.01, a.centroid.y)))
    if near.is_empty:
        return 0.0
    transformer = to_metric_transformer(a.centroid.x)

    def forward(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return float(shapely.length(shapely.transform(near, forward)))


def merge(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """Two grids sharing an edge as one; an error if they only touch at a point or not at
    all, or if the union is not one piece."""
    if shared_edge_m(a, b) < _TOL.sliver_width_m:
        raise EditError("两个网格没有共同的边界")
    # vertices a hair apart along the shared edge would leave a noise hole: snap them first
    merged = clean(shapely.union(a, shapely.snap(b, a, degrees(0.01, a.centroid.y))))
    if solid_parts(merged) != 1:
        raise EditError("合并后的网格不能连成一块")
    return merged


def transfer(giver: BaseGeometry, taker: BaseGeometry,
             cut: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry]:
    """Giver minus a cut of itself, taker plus it: both sides are made from the one cut, so
    they share its edge exactly."""
    return clean(giver.difference(cut)), clean(shapely.union(taker, cut))


@dataclass(frozen=True)
class Move:
    """The result of moving a piece: the two grids' new shapes and the children that moved."""

    giver: BaseGeometry
    taker: BaseGeometry
    children: tuple[str, ...]


def move_piece(giver: BaseGeometry, taker: BaseGeometry, piece: BaseGeometry, *,
               children: Mapping[str, BaseGeometry] | None = None) -> Move:
    """Give the part of `giver` inside a drawn piece to `taker`, which it must border.

    For a grid with children the piece picks whole children: those whose part outside the
    piece is only a sliver move, exactly as they are; a child the piece cuts through is an
    error. Otherwise the piece is giver ∩ piece.
    """
    kids = dict(children or {})
    if kids:
        inside, cut = [], []
        for code, kid in kids.items():
            if negligible(kid.difference(piece)):
                inside.append(code)
            elif not negligible(kid.intersection(piece)):
                cut.append(code)
        if cut:
            raise EditError(f"所画的区域切开了三级网格 {'、'.join(sorted(cut))}；"
                            "请沿三级网格的边界画")
        if not inside:
            raise EditError("所画的区域不含任何完整的三级网格")
        moved = clean(shapely.union_all([kids[c] for c in inside]))
    else:
        inside, moved = [], clean(giver.intersection(piece))
        if negligible(moved):
            raise EditError("所画的区域与要划出的网格没有重叠")
    if shared_edge_m(moved, taker) < _TOL.sliver_width_m:
        raise EditError("所画的区域与要划入的网格不相邻")
    new_giver, new_taker = transfer(giver, taker, moved)
    if solid_parts(new_giver) == 0:
        raise EditError("划出后原网格将一点不剩；请改用合并")
    return Move(new_giver, new_taker, tuple(sorted(inside)))
