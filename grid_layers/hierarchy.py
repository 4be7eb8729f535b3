"""Grid records, problems and the checks that need no geometry overlay: codes, levels, parents."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

PROBLEM_TYPES = (
    "invalid_geometry",
    "overlap",
    "gap",
    "outside_parent",
    "not_contiguous",
    "sliver",
    "orphan",
    "duplicate_code",
    "invalid_attribute",  # importers: a required field empty or malformed
)
COMPREHENSIVE = "comprehensive"
_REASON = re.compile(r"^(.*?)\[\s*(\S+)\s+(\S+)\s*\]")


# Limits on what one request or file may carry: a detailed town boundary has ~18,000
# vertices and a county ~1,000 grids, so these leave room while refusing what would tie up a
# worker (validating a million-vertex polygon takes minutes).
MAX_VERTICES_PER_GEOMETRY = 200_000
MAX_FEATURES_PER_FILE = 100_000


@dataclass(frozen=True)
class Tolerances:
    """Thresholds, in metres of the local Gauss-Kruger zone, that separate defects from noise."""

    # differences smaller than this are floating-point noise and ignored
    noise_area_m2: float = 0.01
    # a gap, overlap or grid part whose mean width (2 * area / perimeter) is under this is a sliver
    sliver_width_m: float = 1.0
    # a grid this close to a sliver (or gap) is a neighbour touching it, named in the problem
    touch_distance_m: float = 0.01


@dataclass(frozen=True)
class GridRecord:
    """One grid as imported or edited; geometry in lon/lat EPSG:4490."""

    code: str
    name: str
    kind: str  # "comprehensive" or a special purpose
    level: int | None  # 1, 2, 3; None for special grids
    parent_code: str | None
    geometry: BaseGeometry  # lon/lat EPSG:4490, Polygon or MultiPolygon
    multipart_allowed: bool = False


@dataclass(frozen=True)
class Problem:
    """One defect found in a set of grids."""

    type: str  # one of PROBLEM_TYPES
    grids: tuple[str, ...]  # codes involved, sorted
    area_m2: float  # area concerned (0.0 where not meaningful, e.g. duplicate_code, orphan)
    geometry: BaseGeometry | None  # lon/lat, what to highlight
    message: str  # one plain English sentence

    @property
    def location(self) -> tuple[float, float] | None:
        """A representative point (lon, lat) inside the geometry, for "where it is"."""
        if self.geometry is None or self.geometry.is_empty:
            return None
        try:
            point = shapely.point_on_surface(self.geometry)
        except GEOSException:  # some invalid shapes; any vertex will do
            point = _first_point(self.geometry)
        return None if point is None else (float(point.x), float(point.y))


@dataclass
class RecordCheck:
    """What the record checks found, and what the geometric checks may use."""

    problems: list[Problem]
    first: dict[str, int]  # code -> index of its first record; later duplicates are ignored
    attrs_ok: list[bool]  # kind/level consistent
    geometry_ok: list[bool]  # a valid lon/lat (Multi)Polygon
    links: dict[int, int]  # child index -> parent index, for correct parent links only


def _first_point(geometry: BaseGeometry) -> Point | None:
    coords = shapely.get_coordinates(geometry)
    return Point(coords[0]) if len(coords) else None


def shape_defect(geometry: object) -> tuple[str, Point | None] | None:
    """Why a geometry cannot be a grid boundary before any validity test, and where."""
    if not isinstance(geometry, BaseGeometry) or geometry.is_empty:
        return "geometry is missing or empty", None
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return f"geometry is a {geometry.geom_type}, not a (Multi)Polygon", _first_point(geometry)
    coords = shapely.get_coordinates(geometry)
    # NaN fails these comparisons too; GEOS validity tests raise on it
    if not ((np.abs(coords[:, 0]) <= 180.0) & (np.abs(coords[:, 1]) <= 90.0)).all():
        return "coordinates are not lon/lat degrees (EPSG:4490)", None
    return None


def _validity_defect(reason: str, geometry: BaseGeometry) -> tuple[str, Point | None] | None:
    """The GEOS invalidity reason, rewritten with its place as (lon, lat); None when valid."""
    if reason == "Valid Geometry":
        return None
    match = _REASON.match(reason)
    if match is None:
        return reason, _first_point(geometry)
    point = Point(float(match[2]), float(match[3]))
    return f"{match[1]} at ({point.x:.6f}, {point.y:.6f})", point


def _attribute_defect(grid: GridRecord) -> str | None:
    if grid.kind == COMPREHENSIVE:
        if grid.level is None:
            return "a comprehensive grid needs a level"
        if grid.level not in (1, 2, 3):
            return f"level {grid.level} is not 1, 2 or 3"
    elif grid.level is not None:
        return f"a special-purpose grid ({grid.kind}) has no level, but level {grid.level} is given"
    return None


def _describe(grid: GridRecord) -> str:
    if grid.kind != COMPREHENSIVE:
        return f"a special-purpose grid ({grid.kind})"
    return f"level {grid.level}"


def check_records(grids: Sequence[GridRecord]) -> RecordCheck:
    """Find duplicate codes, unusable geometries or levels, and wrong parent links."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, grid in enumerate(grids):
        first.setdefault(grid.code, i)
    for code, count in sorted(Counter(g.code for g in grids).items()):
        if count > 1:
            text = f"code {code} is used by {count} grids; codes must be unique"
            problems.append(Problem("duplicate_code", (code,), 0.0, None, text))

    defects = [shape_defect(g.geometry) for g in grids]
    todo = [i for i, d in enumerate(defects) if d is None]
    geometries = np.empty(len(todo), dtype=object)
    geometries[:] = [grids[i].geometry for i in todo]
    for i, reason in zip(todo, shapely.is_valid_reason(geometries), strict=True):  # vectorised
        defects[i] = _validity_defect(str(reason), grids[i].geometry)
    attrs_ok, geometry_ok = [], []
    for grid, geom in zip(grids, defects, strict=True):
        attr = _attribute_defect(grid)
        attrs_ok.append(attr is None)
        geometry_ok.append(geom is None)
        if attr is not None:
            problems.append(
                Problem("invalid_geometry", (grid.code,), 0.0, None, f"grid {grid.code}: {attr}")
            )
        if geom is not None:
            text = f"grid {grid.code} has an unusable geometry: {geom[0]}"
            problems.append(Problem("invalid_geometry", (grid.code,), 0.0, geom[1], text))

    links: dict[int, int] = {}
    for i, grid in enumerate(grids):
        if not attrs_ok[i]:
            continue  # without a trustworthy level the expected parent is unknown
        parent = grids[first[grid.parent_code]] if grid.parent_code in first else None
        highlight = grid.geometry if geometry_ok[i] else None
        codes = tuple(sorted({grid.code, parent.code})) if parent is not None else (grid.code,)
        if grid.kind == COMPREHENSIVE and grid.level == 1:
            if grid.parent_code:
                text = f"level-1 grid {grid.code} must have no parent, but names {grid.parent_code}"
                problems.append(Problem("orphan", codes, 0.0, highlight, text))
            continue
        want = 1 if grid.kind != COMPREHENSIVE else (grid.level or 1) - 1
        if not grid.parent_code:
            text = f"grid {grid.code} has no parent; it needs a level-{want} parent"
        elif parent is None:
            text = f"parent {grid.parent_code} of grid {grid.code} does not exist"
        elif parent.kind != COMPREHENSIVE or parent.level != want:
            text = (
                f"parent {parent.code} of grid {grid.code} is {_describe(parent)}, "
                f"not a level-{want} grid"
            )
        else:
            links[i] = first[parent.code]
            continue
        problems.append(Problem("orphan", codes, 0.0, highlight, text))
    return RecordCheck(problems, first, attrs_ok, geometry_ok, links)
