"""A synthetic town (about 9 km x 8.5 km near lon 120.45, lat 30.95) with three nested grid levels.

Level 1 is the town ("T1"), level 2 has 18 grids ("T1-01" ...), level 3 has 64 grids
("T1-01-01" ...), each level-3 grid inside exactly one level-2 grid.  Every level is an exact
partition: neighbours share bit-identical vertices along their common edges, because all polygons
are polygonized from one shared set of junction-to-junction edges (each edge densified and
perturbed once, in the detailed variant), and coarser levels are coverage unions of finer ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

LON0, LAT0 = 120.45, 30.95
N_LEVEL2, N_LEVEL3 = 18, 64
DETAIL_SPACING = 1.5  # metres between vertices on detailed boundaries (~2,000-5,000 per grid)
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))

Town = dict[int, list[tuple[str, BaseGeometry]]]
Points = NDArray[np.float64]


def build_town(seed: int, detailed: bool) -> Town:
    """The town's three levels as {level: [(code, lon/lat polygon), ...]}, codes ascending."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    seeds2 = _sorted_nw(_sample(rng, outline, N_LEVEL2, lambda p: np.ones(len(p), bool)))
    seeds3 = _level3_seeds(rng, outline, seeds2)
    metric = _nested_voronoi(outline, seeds2, seeds3)
    edges = _shared_edges([g for _, g in metric])
    for attempt in range(4):
        try:
            if detailed:  # halve the wiggle on the (rare) seed where perturbed edges cross
                prng = np.random.default_rng(seed + 1)
                edges_used = [_perturb(e, prng, 0.5**attempt) for e in edges]
            else:
                edges_used = edges
            level3 = _polygonize_as(edges_used, metric)
            break
        except _Crossed:
            continue
    else:
        raise RuntimeError(f"seed {seed}: could not perturb the edges without crossings")
    level2 = []
    for i in range(len(seeds2)):
        code = f"T1-{i + 1:02d}"
        kids = [g for c, g in level3 if c.startswith(code + "-")]
        level2.append((code, shapely.coverage_union_all(kids)))
    level1 = [("T1", shapely.coverage_union_all([g for _, g in level3]))]
    return {1: level1, 2: level2, 3: level3}


def town_bounds(town: Town) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the whole town."""
    x0, y0, x1, y1 = shapely.total_bounds([g for _, g in town[1]])
    return float(x0), float(y0), float(x1), float(y1)


def random_points(town: Town, n: int, seed: int) -> tuple[Points, Points]:
    """n uniform random (lon, lat) points in the town's bounding box."""
    x0, y0, x1, y1 = town_bounds(town)
    rng = np.random.default_rng(seed)
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def to_lonlat(xy: Points) -> Points:
    """Local metres (east, north of the centre) to lon/lat; elementwise, hence deterministic."""
    out = np.empty_like(xy)
    out[:, 0] = LON0 + xy[:, 0] / _M_PER_DEG_LON
    out[:, 1] = LAT0 + xy[:, 1] / _M_PER_DEG_LAT
    return out


class _Crossed(Exception):
    """Perturbed edges crossed each other, so the polygonized faces are not a partition."""


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    # Star-shaped (hence valid) blob, radius 3.6-4.95 km with a few smooth lobes.
    t = np.linspace(0.0, 2 * math.pi, 60, endpoint=False)
    r = np.full_like(t, 4300.0)
    for k in range(2, 6):
        r += rng.uniform(80, 300) / k * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 3600.0, 4950.0)
    return shapely.Polygon(np.c_[r * np.cos(t), r * np.sin(t)])


def _sample(
    rng: np.random.Generator,
    region: shapely.Polygon,
    n: int,
    ok: Callable[[Points], NDArray[np.bool_]],
) -> Points:
    # Rejection sampling with a minimum spacing, so grids come out of comparable size.
    shapely.prepare(region)
    min_d = 0.6 * math.sqrt(region.area / n)
    pts: list[Points] = []
    x0, y0, x1, y1 = region.bounds
    while len(pts) < n:
        cand = rng.uniform((x0, y0), (x1, y1), size=(256, 2))
        cand = cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1]) & ok(cand)]
        for p in cand:
            if len(pts) < n and all(math.dist(p, q) >= min_d for q in pts):
                pts.append(p)
        min_d *= 0.97  # relax if the region is crowded
    return np.array(pts)


def _sorted_nw(pts: Points) -> Points:
    # Number grids north to south (in 100 m bands), then west to east, like reading a map.
    return pts[np.lexsort((pts[:, 0], -np.round(pts[:, 1], -2)))]


def _nearest(p: Points, seeds: Points) -> NDArray[np.intp]:
    return np.argmin(((p[:, None, :] - seeds[None, :, :]) ** 2).sum(-1), axis=1)


def _level3_seeds(
    rng: np.random.Generator, outline: shapely.Polygon, seeds2: Points
) -> list[Points]:
    # 64 level-3 seeds: three per level-2 grid, one more in each of the ten largest.
    probe = rng.uniform(-5000, 5000, size=(100_000, 2))
    probe = probe[shapely.contains_xy(outline, probe[:, 0], probe[:, 1])]
    share = np.bincount(_nearest(probe, seeds2), minlength=len(seeds2))
    counts = np.full(len(seeds2), N_LEVEL3 // len(seeds2))
    counts[np.argsort(-share)[: N_LEVEL3 - counts.sum()]] += 1
    out = []
    for i, k in enumerate(counts.tolist()):

        def in_grid(p: Points, i: int = i) -> NDArray[np.bool_]:
            return _nearest(p, seeds2) == i

        out.append(_sorted_nw(_sample(rng, outline, k, in_grid)))
    return out


def _nested_voronoi(
    outline: shapely.Polygon, seeds2: Points, seeds3: list[Points]
) -> list[tuple[str, BaseGeometry]]:
    # Node every candidate line once, polygonize, then give each face to its nearest seeds:
    # faces of one arrangement share exact edges, so coverage unions of them do too.
    frame = shapely.box(-15_000, -15_000, 15_000, 15_000)
    diagrams = [shapely.voronoi_polygons(shapely.MultiPoint(seeds2), extend_to=frame)]
    diagrams += [
        shapely.voronoi_polygons(shapely.MultiPoint(p), extend_to=frame)
        for p in seeds3
        if len(p) > 1
    ]
    lines = [
        outline.boundary,
        *(b for d in diagrams for b in shapely.boundary(shapely.get_parts(d))),
    ]
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(lines))))
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    keep = shapely.contains_xy(outline, rep[:, 0], rep[:, 1])
    faces, rep = faces[keep], rep[keep]
    i2 = _nearest(rep, seeds2)
    out = []
    for i, pts in enumerate(seeds3):
        mine = faces[i2 == i]
        j3 = _nearest(rep[i2 == i], pts)
        for j in range(len(pts)):
            code = f"T1-{i + 1:02d}-{j + 1:02d}"
            out.append((code, shapely.coverage_union_all(mine[j3 == j])))
    return out


def _shared_edges(polys: list[BaseGeometry]) -> list[Points]:
    # Junction-to-junction edges of the partition, each shared edge once.
    merged = shapely.line_merge(shapely.union_all(shapely.boundary(polys)))
    return [shapely.get_coordinates(e) for e in shapely.get_parts(merged)]


def _perturb(xy: Points, rng: np.random.Generator, scale: float) -> Points:
    # Densify, then push vertices sideways by smooth waves plus jitter, tapered to zero at the
    # junctions (which stay bit-identical), so the edge stays simple and meets its neighbours.
    p = shapely.get_coordinates(shapely.segmentize(shapely.LineString(xy), DETAIL_SPACING))
    seg = np.diff(p, axis=0)
    s = np.r_[0.0, np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))]
    length = s[-1]
    waves = [(rng.uniform(0.3, 1.0), rng.uniform(0, 2 * math.pi)) for _ in range(6)]
    jitter = rng.normal(0.0, 0.12, len(p))
    if length < 10 * DETAIL_SPACING:
        return p
    tangent = np.gradient(p, s, axis=0)
    normal = np.c_[-tangent[:, 1], tangent[:, 0]] / np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
    u = s / length
    amp = scale * min(20.0, 0.03 * length)
    d = sum(amp * a / k * np.sin(2 * math.pi * k * u + ph) for k, (a, ph) in enumerate(waves, 1))
    d = (d + scale * jitter) * np.sin(math.pi * u)
    out = p + normal * d[:, None]
    out[0], out[-1] = xy[0], xy[-1]
    return out


def _polygonize_as(
    edges: list[Points], metric: list[tuple[str, BaseGeometry]]
) -> list[tuple[str, BaseGeometry]]:
    # Polygonize the (lon/lat) edges and name each face after the metric grid it overlaps most.
    faces = shapely.get_parts(shapely.polygonize([shapely.LineString(to_lonlat(e)) for e in edges]))
    ref = shapely.transform([g for _, g in metric], to_lonlat)
    n_parts = int(shapely.get_num_geometries(ref).sum())
    if len(faces) != n_parts or not shapely.is_valid(faces).all():
        raise _Crossed
    if not shapely.coverage_is_valid(faces):
        raise _Crossed
    fi, ri = shapely.STRtree(ref).query(faces, predicate="intersects")
    area = shapely.area(shapely.intersection(faces[fi], ref[ri]))
    best: dict[int, tuple[float, int]] = {}
    for f, r, a in zip(fi.tolist(), ri.tolist(), area.tolist(), strict=True):
        if a > best.get(f, (-1.0, -1))[0]:
            best[f] = (a, r)
    groups: dict[int, list[BaseGeometry]] = {}
    for f, (_, r) in best.items():
        groups.setdefault(r, []).append(faces[f])
    if len(groups) != len(metric):
        raise _Crossed
    return [(code, shapely.coverage_union_all(groups[r])) for r, (code, _) in enumerate(metric)]
