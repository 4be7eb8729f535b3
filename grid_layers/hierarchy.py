"""Grid records, problems and the checks that need no geometry overlay: codes, levels, parents."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from grid_layers.wording import invalid_because, kind_name, level_name

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
LEVELS = (0, 1, 2, 3)  # the county, its towns, and the towns' two levels of grids


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
    level: int | None  # 0 (the county), 1 (a town), 2, 3; None for special grids
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
    message: str  # one plain Chinese sentence (grid_layers.wording), for a planner to read

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
        return "几何为空或缺失", None
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return (f"几何类型是 {geometry.geom_type}，不是面（Polygon/MultiPolygon）",
                _first_point(geometry))
    coords = shapely.get_coordinates(geometry)
    # NaN fails these comparisons too; GEOS validity tests raise on it
    if not ((np.abs(coords[:, 0]) <= 180.0) & (np.abs(coords[:, 1]) <= 90.0)).all():
        return "坐标不是经纬度（EPSG:4490）", None
    return None


def _validity_defect(reason: str, geometry: BaseGeometry) -> tuple[str, Point | None] | None:
    """The GEOS invalidity reason, rewritten with its place as (lon, lat); None when valid."""
    if reason == "Valid Geometry":
        return None
    words, where = invalid_because(reason)
    return words, Point(where) if where is not None else _first_point(geometry)


def _attribute_defect(grid: GridRecord) -> str | None:
    if grid.kind == COMPREHENSIVE:
        if grid.level is None:
            return "综合网格须填层级"
        if grid.level not in LEVELS:
            return f"层级 {grid.level} 不是 0、1、2 或 3"
    elif grid.level is not None:
        return f"专属网格（{kind_name(grid.kind)}）不分层级，却填了层级 {grid.level}"
    return None


def _describe(grid: GridRecord) -> str:
    if grid.kind != COMPREHENSIVE:
        return f"专属网格（{kind_name(grid.kind)}）"
    return level_name(grid.level)


def check_records(grids: Sequence[GridRecord]) -> RecordCheck:
    """Find duplicate codes, unusable geometries or levels, and wrong parent links."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, grid in enumerate(grids):
        first.setdefault(grid.code, i)
    for code, count in sorted(Counter(g.code for g in grids).items()):
        if count > 1:
            text = f"编码 {code} 被 {count} 个网格使用；编码必须唯一"
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
                Problem("invalid_geometry", (grid.code,), 0.0, None, f"网格 {grid.code}：{attr}")
            )
        if geom is not None:
            text = f"网格 {grid.code} 的几何无法使用：{geom[0]}"
            problems.append(Problem("invalid_geometry", (grid.code,), 0.0, geom[1], text))

    links: dict[int, int] = {}
    for i, grid in enumerate(grids):
        if not attrs_ok[i]:
            continue  # without a trustworthy level the expected parent is unknown
        parent = grids[first[grid.parent_code]] if grid.parent_code in first else None
        highlight = grid.geometry if geometry_ok[i] else None
        codes = tuple(sorted({grid.code, parent.code})) if parent is not None else (grid.code,)
        if grid.kind == COMPREHENSIVE and grid.level == 0:
            if grid.parent_code:
                text = f"县级网格 {grid.code} 不应有上级，却填了 {grid.parent_code}"
                problems.append(Problem("orphan", codes, 0.0, highlight, text))
            continue
        if grid.kind == COMPREHENSIVE and grid.level == 1 and not grid.parent_code:
            continue  # a town with no county above it
        # a town's parent is its county; a special grid belongs to its town or the county
        wants = (1, 0) if grid.kind != COMPREHENSIVE else ((grid.level or 1) - 1,)
        named = " 或 ".join(level_name(w) for w in wants)
        if not grid.parent_code:
            text = f"网格 {grid.code} 没有上级；它需要一个{named}作上级"
        elif parent is None:
            text = f"网格 {grid.code} 的上级 {grid.parent_code} 不存在"
        elif parent.kind != COMPREHENSIVE or parent.level not in wants:
            text = f"网格 {grid.code} 的上级 {parent.code} 是{_describe(parent)}，不是{named}"
        else:
            links[i] = first[parent.code]
            continue
        problems.append(Problem("orphan", codes, 0.0, highlight, text))
    return RecordCheck(problems, first, attrs_ok, geometry_ok, links)
