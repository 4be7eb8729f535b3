"""A synthetic town (about 10 km x 10 km near lon 120.45, lat 30.95) with three nested grid levels.

Level 1 is the town ("T1"), level 2 has 18 grids ("T1-01" ...), level 3 has 64 grids
("T1-01-01" ...), each level-3 grid inside exactly one level-2 grid.  Every level is an exact
partition: neighbours share identical vertices along their common edges, because all polygons are
polygonized from one shared, noded set of edges (perturbed once per edge in the detailed variant).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

LON0, LAT0 = 120.45, 30.95
HALF = 5000.0  # half the town's width, metres
N_LEVEL2, N_LEVEL3 = 18, 64
DETAIL_SPACING = 1.5  # metres between vertices on detailed boundaries (~2,000-5,000 per grid)
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))

Town = dict[int, list[tuple[str, BaseGeometry]]]


def build_town(seed: int, detailed: bool) -> Town:
    """Build the town's three levels as {level: [(code, lon/lat polygon), ...]}, codes sorted."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    seeds2 = _sorted_nw(_sample(rng, outline, N_LEVEL2, lambda p: np.ones(len(p), bool)))
    owner = _nearest(seeds2)
    seeds3 = _level3_seeds(rng, outline, seeds2, owner)
    metric = _nested_voronoi(outline, seeds2, seeds3)
    edges = _shared_edges([g for _, g in metric])
    if detailed:
        edges = _perturb_all(edges, np.random.default_rng(seed + 1))
    level3 = _polygonize_as(edges, metric)
    level2 = [
        (f"T1-{i + 1:02d}", shapely.coverage_union_all([g for c, g in level3 if c[:5] == f"T1-{i + 1:02d}"]))
        for i in range(len(seeds2))
    ]
    level1 = [("T1", shapely.coverage_union_all([g for _, g in level3]))]
    return {1: level1, 2: level2, 3: level3}


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Local metres (east, north of the town centre) to lon/lat degrees; elementwise, deterministic."""
    out = np.empty_like(xy)
    out[:, 0] = LON0 + xy[:, 0] / _M_PER_DEG_LON
    out[:, 1] = LAT0 + xy[:, 1] / _M_PER_DEG_LAT
    return out


def _outline(rng: np.random.Generator) -> shapely.Polygon:
    # Star-shaped (hence valid) blob, radius 3.6-4.95 km with a few smooth lobes.
    t = np.linspace(0.0, 2 * math.pi, 60, endpoint=False)
    r = np.full_like(t, 4300.0)
    for k in range(2, 6):
        r += rng.uniform(80, 300) / k * np.cos(k * t + rng.uniform(0, 2 * math.pi))
    r = np.clip(r, 3600.0, 4950.0)
    return shapely.Polygon(np.c_[r * np.cos(t), r * np.sin(t)])


def _sample(rng: np.random.Generator, region: shapely.Polygon, n: int, ok: object) -> np.ndarray:
    # Rejection sampling with a minimum spacing, so grids come out of comparable size.
    shapely.prepare(region)
    min_d = 0.6 * math.sqrt(region.area / n)
    pts: list[np.ndarray] = []
    x0, y0, x1, y1 = region.bounds
    while len(pts) < n:
        cand = rng.uniform((x0, y0), (x1, y1), size=(256, 2))
        cand = cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1]) & ok(cand)]  # type: ignore[operator]
        for p in cand:
            if len(pts) < n and all(math.dist(p, q) >= min_d for q in pts):
                pts.append(p)
        min_d *= 0.97  # relax if the region is crowded
    return np.array(pts)


def _sorted_nw(pts: np.ndarray) -> np.ndarray:
    # Number grids north to south, then west to east, like a paper map.
    return pts[np.lexsort((pts[:, 0], -np.round(pts[:, 1], -2)))]


def _nearest(seeds: np.ndarray) -> object:
    def owner(p: np.ndarray) -> np.ndarray:
        return np.argmin(((p[:, None, :] - seeds[None, :, :]) ** 2).sum(-1), axis=1)

    return owner


def _level3_seeds(
    rng: np.random.Generator, outline: shapely.Polygon, seeds2: np.ndarray, owner: object
) -> list[np.ndarray]:
    # 64 level-3 seeds: three per level-2 grid, one more in each of the largest ten.
    probe = rng.uniform(-HALF, HALF, size=(200_000, 2))
    probe = probe[shapely.contains_xy(outline, probe[:, 0], probe[:, 1])]
    share = np.bincount(owner(probe), minlength=len(seeds2))  # type: ignore[operator]
    counts = np.full(len(seeds2), N_LEVEL3 // len(seeds2))
    counts[np.argsort(-share)[: N_LEVEL3 - counts.sum()]] += 1
    out = []
    for i, k in enumerate(counts):
        pts = _sample(rng, outline, int(k), lambda p, i=i: owner(p) == i)  # type: ignore[operator]
        out.append(_sorted_nw(pts))
    return out


def _nested_voronoi(
    outline: shapely.Polygon, seeds2: np.ndarray, seeds3: list[np.ndarray]
) -> list[tuple[str, BaseGeometry]]:
    # Node every candidate line once, polygonize, then give each face to its nearest seeds:
    # faces of one arrangement share exact edges, so coverage unions of them do too.
    frame = shapely.box(-3 * HALF, -3 * HALF, 3 * HALF, 3 * HALF)
    lines = [outline.boundary, shapely.voronoi_polygons(shapely.MultiPoint(seeds2), extend_to=frame)]
    for pts in seeds3:
        if len(pts) > 1:
            lines.append(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=frame))
    parts = [lines[0], *(b for g in lines[1:] for b in shapely.boundary(shapely.get_parts(g)))]
    noded = shapely.union_all(parts)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    rep = shapely.get_coordinates(shapely.point_on_surface(faces))
    keep = shapely.contains_xy(outline, rep[:, 0], rep[:, 1])
    faces, rep = faces[keep], rep[keep]
    i2 = np.argmin(((rep[:, None] - seeds2[None]) ** 2).sum(-1), axis=1)
    out = []
    for i, pts in enumerate(seeds3):
        mine = i2 == i
        j3 = np.argmin(((rep[mine][:, None] - pts[None]) ** 2).sum(-1), axis=1)
        for j in range(len(pts)):
            out.append((f"T1-{i + 1:02d}-{j + 1:02d}", shapely.coverage_union_all(faces[mine][j3 == j])))
    return out


def _shared_edges(polys: list[BaseGeometry]) -> list[np.ndarray]:
    # Junction-to-junction edges of the partition (each shared edge appears once).
    merged = shapely.line_merge(shapely.union_all(shapely.boundary(polys)))
    return [shapely.get_coordinates(e) for e in shapely.get_parts(merged)]


def _perturb_all(edges: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    return [_perturb(e, rng) for e in edges]


def _perturb(xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Densify, then push vertices sideways by smooth waves plus jitter, tapered to zero at the
    # junctions (which stay bit-identical), so the edge stays simple and meets its neighbours.
    line = shapely.segmentize(shapely.LineString(xy), DETAIL_SPACING)
    p = shapely.get_coordinates(line)
    seg = np.diff(p, axis=0)
    s = np.r_[0.0, np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))]
    length = s[-1]
    if length < 10 * DETAIL_SPACING:
        return p
    tangent = np.gradient(p, s, axis=0)
    normal = np.c_[-tangent[:, 1], tangent[:, 0]] / np.hypot(tangent[:, 0], tangent[:, 1])[:, None]
    u = s / length
    amp = min(20.0, 0.03 * length)
    d = sum(
        amp * rng.uniform(0.3, 1.0) / k * np.sin(2 * math.pi * k * u + rng.uniform(0, 2 * math.pi))
        for k in range(1, 7)
    )
    d = (d + rng.normal(0.0, 0.12, len(u))) * np.sin(math.pi * u)
    out = p + normal * d[:, None]
    out[0], out[-1] = xy[0], xy[-1]
    return out


def _polygonize_as(
    edges: list[np.ndarray], metric: list[tuple[str, BaseGeometry]]
) -> list[tuple[str, BaseGeometry]]:
    # Polygonize the (lon/lat) edges and name each face after the metric grid it overlaps most.
    lines = [shapely.LineString(to_lonlat(e)) for e in edges]
    faces = shapely.get_parts(shapely.polygonize(lines))
    if not shapely.coverage_is_valid(faces) or not shapely.is_valid(faces).all():
        raise RuntimeError("perturbed edges crossed; try another seed")
    codes = [c for c, _ in metric]
    ref = shapely.transform([g for _, g in metric], to_lonlat)
    tree = shapely.STRtree(ref)
    fi, ri = tree.query(faces, predicate="intersects")
    area = shapely.area(shapely.intersection(faces[fi], ref[ri]))
    best: dict[int, tuple[float, int]] = {}
    for f, r, a in zip(fi.tolist(), ri.tolist(), area.tolist(), strict=True):
        if a > best.get(f, (-1.0, -1))[0]:
            best[f] = (a, r)
    n_parts = sum(len(shapely.get_parts(g)) for g in ref)
    if len(faces) != n_parts or len(best) != len(faces):
        raise RuntimeError(f"polygonize gave {len(faces)} faces for {n_parts} grid parts")
    groups: dict[int, list[BaseGeometry]] = {}
    for f, (_, r) in best.items():
        groups.setdefault(r, []).append(faces[f])
    return [(codes[r], shapely.coverage_union_all(groups[r])) for r in range(len(codes))]
