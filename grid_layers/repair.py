"""Repairing boundary files within a tolerance: what rounding and double digitising leave behind
(bow-ties, neighbours' vertices a few centimetres apart, millimetre gaps and overlaps, a special
grid poking out of its town) is cleaned; anything larger is left for validation to refuse.

The noding, snapping and gap/overlap assignment are GEOS's coverage cleaner
(`shapely.coverage_clean`, the "clean topology" step of desktop GIS). What this module adds is
the hierarchy, which the cleaner does not know:
- grids are cleaned one family at a time (the children of one parent, or the top level), top
  down, so a parent is final before its children are fitted to it;
- a parent's outline never moves for its children: the family is cleaned together with the
  parent's complement (a frame), then cut to the parent exactly, and what the cut leaves
  uncovered goes to the child with the longest border along it (the cleaner's own rule);
- grids already stored (not in the file) are `fixed`: they take part as neighbours but keep
  their shape;
- a hard bound: a family whose repair moves any vertex of any grid further than the tolerance
  from the file's boundary is left as it was, so its problems are refused as without repair.

Distances given to the cleaner are degrees no longer than the tolerance in any direction (a
degree of latitude is at most 111.7 km); every reported size and shift is measured in metres.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from grid_layers.hierarchy import (
    COMPREHENSIVE,
    GridRecord,
    Problem,
    RecordCheck,
    Tolerances,
    check_records,
    shape_defect,
)
from grid_layers.metric import POLYGON_TYPE_ID, Metric, objects
from grid_layers.validation import validate_hierarchy

REPAIR_KINDS = ("made_valid", "snapped", "gap_closed", "overlap_resolved", "clipped_to_parent")
DEFAULT_TOLERANCE_M = 0.5
MAX_TOLERANCE_M = 5.0  # beyond a few metres a "repair" redraws boundaries: a planner's decision
_M_PER_DEGREE_MAX = 111_700.0  # a degree of latitude near the poles; longitude's is shorter
_NOISE = Tolerances().noise_area_m2
_ATTEMPTS = 4  # cleanings of one family, holding back each time the grids that moved too far
_SAME = np.zeros((0, 2))  # marks a grid whose vertices the repair left exactly as they were

_WORDS = {
    "made_valid": "网格 {codes} 的自相交边界已修正为有效面",
    "snapped": "网格 {codes} 的顶点已对齐到相邻或上级网格的边界",
    "gap_closed": "{codes} 之间的缝隙已并入相邻边界最长的网格",
    "overlap_resolved": "{codes} 之间的重叠已归入相邻边界最长的网格",
    "clipped_to_parent": "{codes} 超出上级的部分已裁去",
}


@dataclass(frozen=True)
class Repair:
    """One repair made to the file's grids, for the user to read before trusting the result."""

    kind: str  # one of REPAIR_KINDS
    grids: tuple[str, ...]  # codes concerned, sorted
    area_m2: float  # area moved from one grid to another (snapped, made_valid: area changed)
    shift_m: float  # the largest distance a vertex of these grids moved here
    pieces: int  # how many separate bits were repaired (a shared edge has many)
    geometry: BaseGeometry | None  # lon/lat, the largest bit
    message: str

    @property
    def location(self) -> tuple[float, float] | None:
        """A point (lon, lat) on the largest bit repaired."""
        if self.geometry is None or self.geometry.is_empty:
            return None
        point = shapely.point_on_surface(self.geometry)
        return float(point.x), float(point.y)


@dataclass(frozen=True)
class RepairOutcome:
    """The grids as repaired (the given order) and what was done to them."""

    records: tuple[GridRecord, ...]
    repairs: tuple[Repair, ...]
    tolerance_m: float


def repair_hierarchy(
    grids: Sequence[GridRecord],
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    fixed: Collection[str] = (),
    problems: Sequence[Problem] | None = None,
) -> RepairOutcome:
    """Repair what lies within `tolerance_m` metres; grids whose code is in `fixed` keep their
    shape; `problems`: these grids' validation when the caller has it already. Validate the
    outcome's records afterwards: repair refuses nothing itself."""
    if not 0.0 < tolerance_m <= MAX_TOLERANCE_M:
        raise ValueError(f"tolerance must be over 0 and at most {MAX_TOLERANCE_M} m")
    found = validate_hierarchy(grids) if problems is None else problems
    return _Repairer(grids, check_records(grids), tolerance_m, frozenset(fixed), found).run()


def repairable(problems: Sequence[Problem], after_repair: Sequence[Problem]) -> list[bool]:
    """Which problems a repair clears: those naming no grid that still has a problem once
    repaired (a missing or malformed field is never a repair's to clear)."""
    still = {code for p in after_repair for code in p.grids}
    return [p.type != "invalid_attribute" and not still & set(p.grids) for p in problems]


def _troubled(grids: Sequence[GridRecord], problems: Sequence[Problem]) -> set[int]:
    """Indexes of the grids validation finds a problem with, at the deepest level each
    problem names (a gap in a parent is its children's problem, not the parent's family's)."""
    index: dict[str, int] = {}
    for i, grid in enumerate(grids):
        index.setdefault(grid.code, i)

    def depth(i: int) -> int:
        level = grids[i].level
        return 9 if grids[i].kind != COMPREHENSIVE or level is None else level

    found: set[int] = set()
    for problem in problems:
        named = [index[c] for c in problem.grids if c in index]
        if named:
            deepest = max(depth(i) for i in named)
            found.update(i for i in named if depth(i) == deepest or depth(i) == 9)
    return found


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygon parts of an overlay's result, as one (Multi)Polygon (an overlay's parts
    do not overlap, so they are gathered, not unioned again)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = shapely.get_parts(shapely.get_parts(geometry))
    parts = parts[(shapely.get_type_id(parts) == POLYGON_TYPE_ID) & ~shapely.is_empty(parts)]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(list(parts)) if len(parts) else Polygon()


def _complex(xy: np.ndarray) -> np.ndarray:
    return xy[:, 0] + 1j * xy[:, 1]


class _Lines:
    """The boundaries of some lon/lat shapes as an STRtree of metric segments, for the
    distance from many points to the nearest of them (a detailed grid has thousands of
    vertices; most points move nowhere and are not asked about)."""

    def __init__(self, metric: Metric, shapes: Sequence[BaseGeometry]) -> None:
        self.metric = metric
        lines = shapely.get_parts(shapely.boundary(objects(list(shapes))))
        coords, ring = shapely.get_coordinates(lines, return_index=True)
        xy = metric.points(coords)
        same = ring[:-1] == ring[1:]
        self.tree = shapely.STRtree(shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]],
                                                                 axis=1)))

    def distance(self, xy: np.ndarray) -> np.ndarray:
        """Metres from each lon/lat point to the nearest line."""
        if not len(xy):
            return np.zeros(0)
        _, metres = self.tree.query_nearest(shapely.points(self.metric.points(xy)),
                                            return_distance=True, all_matches=False)
        return np.asarray(metres)


class _Repairer:
    def __init__(
        self, grids: Sequence[GridRecord], rec: RecordCheck, tolerance_m: float,
        fixed: frozenset[str], problems: Sequence[Problem],
    ) -> None:
        self.grids, self.rec, self.tol = grids, rec, tolerance_m
        self.deg = tolerance_m / _M_PER_DEGREE_MAX
        self.original = [g.geometry for g in grids]
        self.now = list(self.original)  # current shapes, replaced as repairs are accepted
        self.valid = list(rec.geometry_ok)
        self.movable = [
            rec.attrs_ok[i] and rec.first[g.code] == i and g.code not in fixed
            and shape_defect(g.geometry) is None
            for i, g in enumerate(grids)
        ]
        measurable = [g.geometry for g in grids if shape_defect(g.geometry) is None]
        self.metric = Metric(objects(measurable))
        self.repairs: list[Repair] = []
        self.troubled = _troubled(grids, problems)
        self.usable = [i for i, g in enumerate(grids) if shape_defect(g.geometry) is None]
        self.lines: _Lines | None = None
        self.moved: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # lon/lat points, metres

    # -- the steps -----------------------------------------------------------------------------

    def run(self) -> RepairOutcome:
        self._make_valid()
        for parent, members in self._families():
            self._family(parent, members)
        self._clip_special()
        records = tuple(
            g if self.now[i] is self.original[i] else replace(g, geometry=self.now[i])
            for i, g in enumerate(self.grids)
        )
        order = {kind: k for k, kind in enumerate(REPAIR_KINDS)}
        repairs = sorted(self.repairs, key=lambda r: (order[r.kind], r.grids))
        return RepairOutcome(records, tuple(repairs), self.tol)

    def _make_valid(self) -> None:
        """Rings made invalid by rounding: GEOS's make_valid, a folded tip joined back on,
        within the bound like every repair."""
        for i, grid in enumerate(self.grids):
            if self.valid[i] or not self.movable[i]:
                continue
            try:
                made = _polygonal(shapely.make_valid(grid.geometry, method="structure",
                                                     keep_collapsed=False))
            except GEOSException:
                continue
            made = self._rejoin(made, grid.multipart_allowed)
            if made.is_empty or not made.is_valid or not self._within_bound([i], [made]):
                continue
            before = self._area(self.original[i])
            self._accept(i, made)
            self.valid[i] = True
            change = abs(self._area(made) - before)
            self._add("made_valid", (grid.code,), change, [i], made, 1)

    def _rejoin(self, made: BaseGeometry, multipart: bool) -> BaseGeometry:
        """A rounded sharp corner folds over itself and make_valid returns its tip as a lobe
        touching the rest at one point: the lobe is the grid's own area, so it is joined back
        by a bridge a hundredth of the tolerance wide rather than dropped (which would cut the
        corner short by tens of metres). Parts still apart are dropped when they are narrower
        than the tolerance and the grid is not multi-part by design."""
        parts = shapely.get_parts(made)
        if len(parts) < 2:
            return made
        # a bridge is a blob around the shortest line between two parts that touch or
        # nearly do (a band along the whole of two long parts could poke out of the parent)
        a, b = shapely.STRtree(parts).query(parts, predicate="dwithin", distance=self.deg * 0.02)
        a, b = a[a < b], b[a < b]
        bridges = shapely.buffer(shapely.shortest_line(parts[a], parts[b]), self.deg * 0.01,
                                 quad_segs=2)
        joined = _polygonal(shapely.union_all(np.concatenate([parts, bridges])))
        parts = shapely.get_parts(joined)
        if len(parts) < 2 or multipart:
            return joined
        _, _, _, area, width = self.metric.polygons(parts)
        return shapely.union_all(parts[(width >= self.tol) | (area == area.max())])

    def _families(self) -> list[tuple[int | None, list[int]]]:
        """Comprehensive grids grouped by parent, top level first."""
        by_parent: dict[tuple[int, int | None], list[int]] = defaultdict(list)
        for i, grid in enumerate(self.grids):
            if grid.kind != COMPREHENSIVE or not self.rec.attrs_ok[i] or grid.level is None:
                continue
            if self.rec.first[grid.code] != i:
                continue
            parent = self.rec.links.get(i)
            if parent is None and grid.level != min(self._levels()):
                continue  # an orphan: where it belongs is for the user to say
            by_parent[(grid.level, parent)].append(i)
        return [(parent, members) for (_, parent), members in sorted(
            by_parent.items(), key=lambda item: (item[0][0], item[0][1] or -1))]

    def _levels(self) -> set[int]:
        return {g.level for g in self.grids if g.kind == COMPREHENSIVE and g.level is not None}

    def _family(self, parent: int | None, members: list[int]) -> None:
        """Clean one parent's children (or the top level) as one coverage. A child the
        cleaning would move further than the tolerance is held as it is in the file and the
        rest cleaned again around it, so one real defect does not leave its family unrepaired."""
        if parent is not None and not self.valid[parent]:
            return  # nothing to fit the children to
        members = [i for i in members if self.valid[i]]
        if not any(self.movable[i] for i in members) or (parent is None and len(members) < 2):
            return
        moved_parent = parent is not None and self.now[parent] is not self.original[parent]
        if not moved_parent and not self.troubled.intersection(members):
            return  # nothing wrong here: valid data is never touched
        held: set[int] = set()
        for _ in range(_ATTEMPTS):
            movable = [i for i in members if self.movable[i] and i not in held]
            steady = [i for i in members if i not in movable]
            shapes = self._clean(parent, movable, steady)
            if shapes is None:
                return
            beyond = self._beyond_bound(movable, shapes)
            if not beyond:
                break
            held |= beyond
        else:
            return
        before = {i: self.now[i] for i in members}
        for i, shape in zip(movable, shapes, strict=True):
            if self.moved[i][0] is not _SAME:  # grids only reordered keep their rings as given
                self._accept(i, shape)
        self._report_family(parent, members, movable, before)

    def _clean(self, parent: int | None, movable: list[int],
               steady: list[int]) -> list[BaseGeometry] | None:
        """The movable children cleaned with their fixed siblings and fitted to the parent;
        None where GEOS cannot."""
        if not movable:
            return []
        outline = self.now[parent] if parent is not None else None
        # the frame goes first: the cleaner snaps later vertices to earlier ones, so the
        # parent's vertices stay where they are and the children's come to them
        inputs = [self.now[i] for i in steady + movable]
        if outline is not None:
            inputs.insert(0, self._frame(outline))
        try:
            cleaned = shapely.coverage_clean(objects(inputs), gap_width=self.deg,
                                             snapping_distance=self.deg)
            shapes = [_polygonal(g) for g in cleaned[len(inputs) - len(movable):]]
            if outline is not None:
                shapes = self._fit(movable, shapes, outline, [self.now[i] for i in steady])
            shapes = self._reattach(movable, shapes)
        except GEOSException:
            return None
        if not all(s.is_valid and not s.is_empty for s in shapes):
            return None
        return shapes

    def _reattach(self, movable: list[int], shapes: list[BaseGeometry]) -> list[BaseGeometry]:
        """A bit cut off from a grid that is not multi-part by design (the cleaning of a
        zigzag edge can leave a few square centimetres apart): joined back where it touches
        the grid at a point, else given to the neighbour with the longest border along it,
        when it is narrower than the tolerance."""
        edges = shapely.boundary(objects(shapes))
        for k, shape in enumerate(shapes):
            if not isinstance(shape, MultiPolygon) or self.grids[movable[k]].multipart_allowed:
                continue
            shape = shapes[k] = self._rejoin(shape, multipart=True)  # pinched at a point
            if not isinstance(shape, MultiPolygon):
                edges[k] = shapely.boundary(shape)
                continue
            parts = shapely.get_parts(shape)
            _, owner, _, area, width = self.metric.polygons(parts)
            main = owner[int(np.argmax(area))]
            for j in np.unique(owner[(width < self.tol) & (owner != main)]):
                near = shapely.buffer(parts[j], self.deg * 1e-3, quad_segs=2)
                border = shapely.length(shapely.intersection(edges, near))
                border[k] = 0.0
                if border.max() <= 0.0:
                    continue
                best = int(np.argmax(border))
                shapes[best] = _polygonal(shapely.union(shapes[best], parts[j]))
                shapes[k] = _polygonal(shapely.difference(shapes[k], parts[j]))
                edges[best], edges[k] = shapely.boundary(shapes[best]), shapely.boundary(shapes[k])
        return shapes

    def _frame(self, outline: BaseGeometry) -> BaseGeometry:
        """The parent's complement in a box around it: children cannot be cleaned into it."""
        x0, y0, x1, y1 = outline.bounds
        margin = 100.0 * self.deg
        return shapely.box(x0 - margin, y0 - margin, x1 + margin, y1 + margin).difference(outline)

    def _fit(self, movable: list[int], shapes: list[BaseGeometry], outline: BaseGeometry,
             steady: list[BaseGeometry]) -> list[BaseGeometry]:
        """Cut the cleaned children to their parent exactly, then give each narrow uncovered
        bit to the child with the longest border along it."""
        taken = shapely.union_all(objects(steady)) if steady else None
        shapes = [_polygonal(shapely.intersection(s, outline)) for s in shapes]
        if taken is not None:
            shapes = [_polygonal(shapely.difference(s, taken)) for s in shapes]
        covered = shapely.union_all(objects(shapes + steady))
        rest = shapely.get_parts(_polygonal(shapely.difference(outline, covered)))
        if not len(rest):
            return shapes
        _, owner, _, _, width = self.metric.polygons(rest)
        narrow = rest[owner[width < self.tol]]
        if not len(narrow):
            return shapes
        edges = shapely.boundary(objects(shapes))
        # which children each bit borders (their edge runs along it), all at once
        near = shapely.buffer(narrow, self.deg * 1e-3, quad_segs=2)  # overlay noise aside
        b, k = shapely.STRtree(edges).query(near, predicate="intersects")
        border = shapely.length(shapely.intersection(edges[k], near[b]))
        b, k, border = b[border > 0.0], k[border > 0.0], border[border > 0.0]
        bordering = np.bincount(b, minlength=len(narrow))
        # the usual bit borders one child and lies within the tolerance of the file's lines:
        # it goes to that child whole, every such bit of a child in one union
        lines = self._file_lines()
        coords, which = shapely.get_coordinates(narrow, return_index=True)
        far = np.zeros(len(narrow))
        np.maximum.at(far, which, lines.distance(coords))
        whole = (bordering == 1) & (far <= self.tol)
        gains: dict[int, list[BaseGeometry]] = defaultdict(list)
        for bit, child in zip(b[whole[b]], k[whole[b]], strict=True):
            gains[int(child)].append(narrow[bit])
        for child, bits in gains.items():
            shapes[child] = _polygonal(shapely.union_all(objects([shapes[child], *bits])))
            edges[child] = shapely.boundary(shapes[child])
        for i in np.flatnonzero((bordering > 0) & ~whole):
            mine = b == i
            self._share(narrow[i], k[mine][np.argsort(-border[mine], kind="stable")],
                        movable, shapes, edges)
        return shapes

    def _share(self, bit: BaseGeometry, order: np.ndarray, movable: list[int],
               shapes: list[BaseGeometry], edges: np.ndarray) -> None:
        """A strip along the parent's edge running past several children: each takes what
        lies within the tolerance of its own line in the file, longest border first; a tail
        left over (where the parent's line came from a neighbour's) goes whole to the longest
        border if it lies within the tolerance of any line in the file."""
        left = bit
        for k in order:
            take = _polygonal(shapely.intersection(left, self._reach([movable[k]], bit)))
            if not take.is_empty:
                shapes[k] = _polygonal(shapely.union(shapes[k], take))
                edges[k] = shapely.boundary(shapes[k])
                left = _polygonal(shapely.difference(left, take))
        if len(order) and not left.is_empty:
            k = int(order[0])
            take = _polygonal(shapely.intersection(left, self._reach(self.usable, bit)))
            shapes[k] = _polygonal(shapely.union(shapes[k], take))
            edges[k] = shapely.boundary(shapes[k])

    def _reach(self, grids: Sequence[int], bit: BaseGeometry) -> BaseGeometry:
        """Where a grid may grow near `bit`: within the tolerance of these grids' lines in the
        file."""
        zone = shapely.buffer(bit, 2.0 * self.deg)
        lines = shapely.boundary(objects([self._reference(i) for i in grids]))
        along = shapely.intersection(lines, zone)
        along = along[~shapely.is_empty(along)]
        grown = shapely.buffer(self.metric.project(objects([shapely.union_all(along)])),
                               self.tol * 0.999)
        return self.metric.unproject(grown)[0]

    def _clip_special(self) -> None:
        """A special grid poking out of its parent by less than the tolerance is cut to it."""
        for i, grid in enumerate(self.grids):
            parent = self.rec.links.get(i)
            if grid.kind == COMPREHENSIVE or parent is None or not self.movable[i]:
                continue
            if not (self.valid[i] and self.valid[parent]):
                continue
            shape, outline = self.now[i], self.now[parent]
            if i not in self.troubled or shapely.covers(outline, shape):
                continue
            try:
                clipped = _polygonal(shapely.intersection(shape, outline))
                outside = _polygonal(shapely.difference(shape, outline))
            except GEOSException:
                continue
            if clipped.is_empty or not clipped.is_valid:
                continue
            if not self._within_bound([i], [clipped]):
                continue
            self._accept(i, clipped)
            codes = (grid.code, self.grids[parent].code)
            self._pieces("clipped_to_parent", codes, outside, [i])

    # -- measuring and reporting ---------------------------------------------------------------

    def _within_bound(self, indices: list[int], shapes: list[BaseGeometry]) -> bool:
        """Whether all these shapes stay within the tolerance of the file."""
        return not self._beyond_bound(indices, shapes)

    def _beyond_bound(self, indices: list[int], shapes: list[BaseGeometry]) -> set[int]:
        """The grids whose new shape leaves the tolerance of the file: a new vertex further
        than it from every line in the file (a rounded spike of a neighbour may change hands),
        or a changed area thicker than it (a 6 cm wide, 300 m long spike may go; a 28 m bite
        may not). The moves of the others are kept for reporting."""
        lines = self._file_lines()
        beyond = set()
        for i, shape in zip(indices, shapes, strict=True):
            before = self.original[i]
            old, new = shapely.get_coordinates(before), shapely.get_coordinates(shape)
            added = new[~np.isin(_complex(new), _complex(old))]
            if not len(added) and np.isin(_complex(old), _complex(new)).all():
                self.moved[i] = (_SAME, np.zeros(0))  # the same vertices, at most reordered
                continue
            metres = lines.distance(added)
            if len(metres) and metres.max() > self.tol:
                beyond.add(i)
                continue
            try:
                changed = shapely.symmetric_difference(self._reference(i), shape)
            except GEOSException:
                beyond.add(i)
                continue
            core = shapely.buffer(self.metric.project(objects([changed])), -self.tol / 2.0,
                                  quad_segs=2)
            if shapely.area(core)[0] > _NOISE:
                beyond.add(i)
                continue
            # how far each vertex moved: from the grid's own line; a vertex further than the
            # tolerance from it came with a thin piece of a neighbour's (the bound above holds
            # it to the file's lines), so its move is its distance from those
            own = _Lines(self.metric, [before]).distance(added)
            self.moved[i] = (added, np.where(own > self.tol, metres, own))
        return beyond

    def _file_lines(self) -> _Lines:
        """Every line of the file's usable shapes, built once."""
        if self.lines is None:
            self.lines = _Lines(self.metric, [self._reference(i) for i in self.usable])
        return self.lines

    def _reference(self, i: int) -> BaseGeometry:
        """The file's shape to measure change against (its area, if the ring is invalid)."""
        if self.rec.geometry_ok[i]:
            return self.original[i]
        return shapely.make_valid(self.original[i], method="structure", keep_collapsed=False)

    def _accept(self, i: int, shape: BaseGeometry) -> None:
        self.now[i] = shape

    def _area(self, shape: BaseGeometry) -> float:
        return float(shapely.area(self.metric.project(objects([shape])))[0])

    def _local_shift(self, indices: Sequence[int], where: BaseGeometry) -> float:
        """The largest move of these grids' vertices near `where`."""
        largest = 0.0
        for i in indices:
            points, metres = self.moved.get(i, (np.zeros((0, 2)), np.zeros(0)))
            if not len(metres):
                continue
            near = shapely.dwithin(shapely.points(points), where, self.deg * 2.0)
            if near.any():
                largest = max(largest, float(metres[near].max()))
        return largest

    def _largest_move(self, indices: Sequence[int]) -> tuple[float, BaseGeometry | None]:
        best, where = 0.0, None
        for i in indices:
            points, metres = self.moved.get(i, (_SAME, np.zeros(0)))
            if len(metres) and metres.max() >= best:
                k = int(np.argmax(metres))
                best, where = float(metres[k]), shapely.Point(points[k])
        return best, where

    def _add(self, kind: str, codes: tuple[str, ...], area: float, indices: Sequence[int],
             where: BaseGeometry | None, pieces: int) -> None:
        if where is None:  # a whole grid: shown where its vertices moved furthest
            shift, where = self._largest_move(indices)
        else:
            shift = self._local_shift(indices, where)
        words = _WORDS[kind].format(codes="、".join(codes))
        if kind in ("snapped", "made_valid"):
            text = f"{words}：顶点最多移动 {shift:.2f} m，面积变化 {area:.2f} m²"
        else:
            text = f"{words}：{pieces} 处，共 {area:.2f} m²，顶点最多移动 {shift:.2f} m"
        self.repairs.append(Repair(kind, tuple(sorted(codes)), area, shift, pieces, where, text))

    def _pieces(self, kind: str, codes: tuple[str, ...], geometry: BaseGeometry,
                indices: Sequence[int]) -> None:
        """One line for a kind of repair between these grids, summing its bits over noise."""
        parts = shapely.get_parts(geometry)
        if not len(parts):
            return
        _, owner, _, area, _ = self.metric.polygons(parts)
        keep = area > _NOISE
        if not keep.any():
            return
        largest = parts[owner[keep][int(np.argmax(area[keep]))]]
        self._add(kind, codes, float(area[keep].sum()), indices, largest, int(keep.sum()))

    def _report_family(self, parent: int | None, members: list[int], movable: list[int],
                       before: dict[int, BaseGeometry]) -> None:
        """What cleaning one family did, grouped by the grids concerned."""
        code = {i: self.grids[i].code for i in members}
        geoms = objects([before[i] for i in members])
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        pairs = (a < b) & shapely.relate_pattern(geoms[a], geoms[b], "T********")
        for x, y in zip(a[pairs], b[pairs], strict=True):
            i, j = members[x], members[y]
            both = _polygonal(shapely.intersection(before[i], before[j]))
            self._pieces("overlap_resolved", (code[i], code[j]), both, [i, j])
        if parent is not None:
            outline = self.now[parent]
            for i in movable:
                if not shapely.covers(outline, before[i]):
                    outside = _polygonal(shapely.difference(before[i], outline))
                    self._pieces("clipped_to_parent", (code[i], self.grids[parent].code),
                                 outside, [i])
            self._gaps(outline, members, before)
        for i in movable:
            if self.now[i] is before[i]:
                continue
            change = abs(self._area(self.now[i]) - self._area(before[i]))
            self._add("snapped", (code[i],), change, [i], None, 1)

    def _gaps(self, outline: BaseGeometry, members: list[int],
              before: dict[int, BaseGeometry]) -> None:
        """Parent area the file's children left uncovered, by the grids now covering it."""
        gaps = shapely.get_parts(_polygonal(shapely.difference(
            outline, shapely.union_all(objects([before[i] for i in members])))))
        if not len(gaps):
            return
        now = objects([self.now[i] for i in members])
        tree = shapely.STRtree(now)
        groups: dict[tuple[int, ...], list[BaseGeometry]] = defaultdict(list)
        for gap in gaps:
            near = tree.query(gap, predicate="intersects")
            takers = tuple(sorted(members[k] for k in near))  # the taker and its neighbours
            if takers:
                groups[takers].append(gap)
        for takers, bits in groups.items():
            codes = tuple(self.grids[i].code for i in takers)
            self._pieces("gap_closed", codes, shapely.union_all(objects(bits)), list(takers))
