"""Synthetic province-scale grids: Voronoi cells with densified, shared, slightly wiggled edges.

``province_grids(n, vertices=200)`` tiles a province-sized box (~340 km x 330 km near Jiangsu,
117.4-121.0E, 31.0-34.0N, ~113,000 km2) with ``n`` Voronoi grids of about ``vertices``
vertices each.  Neighbours share bit-identical vertices along their common edges (each edge
is densified and wiggled once, then used forwards by one grid and backwards by the other), so
the grids are an exact partition of their union, as imported boundaries are.  Seeds outside
the box keep every grid bounded; the union's border is therefore a little jagged.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

EXTENT = (117.4, 31.0, 121.0, 34.0)  # lon/lat box
WIGGLE = 0.03  # wiggle amplitude as a share of the edge's length

Points = NDArray[np.float64]


def province_grids(
    n: int, vertices: int = 200, seed: int = 0, extent: tuple[float, float, float, float] = EXTENT
) -> tuple[list[str], list[BaseGeometry]]:
    """n grids as (codes, polygons); codes are shuffled so that code order is not space order."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    area = (x1 - x0) * (y1 - y0)
    spacing = math.sqrt(area / n)
    m = 3 * spacing  # margin of seeds around the box: every inner cell is closed by them
    inner = np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]
    k = int((x1 - x0 + 2 * m) * (y1 - y0 + 2 * m) / area * n)  # the same density around it
    outer = np.c_[rng.uniform(x0 - m, x1 + m, k), rng.uniform(y0 - m, y1 + m, k)]
    outside = (outer[:, 0] < x0) | (outer[:, 0] > x1) | (outer[:, 1] < y0) | (outer[:, 1] > y1)
    outer = outer[outside]
    frame = shapely.box(x0 - 2 * m, y0 - 2 * m, x1 + 2 * m, y1 + 2 * m)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.r_[inner, outer]), extend_to=frame, ordered=True
        )
    )[:n]
    b = shapely.bounds(cells)
    assert (b[:, 0] > x0 - 2 * m).all() and (b[:, 2] < x1 + 2 * m).all(), "a cell reached the frame"
    geoms = _densify(cells, vertices, rng)
    codes = [f"G{i:06d}" for i in rng.permutation(n)]
    return codes, list(geoms)


def _densify(
    cells: NDArray[np.object_], vertices: int, rng: np.random.Generator
) -> NDArray[np.object_]:
    """Each cell's edges densified to ~vertices per cell in all, each shared edge once."""
    rings = shapely.get_exterior_ring(cells)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    seg = np.flatnonzero(ring[1:] == ring[:-1])  # edge seg: xy[seg] -> xy[seg + 1]
    a, b = xy[seg], xy[seg + 1]
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p = np.where(flip[:, None], b, a)  # canonical direction: from the smaller endpoint
    q = np.where(flip[:, None], a, b)
    key = np.ascontiguousarray(np.c_[p, q]).view(np.dtype((np.void, 32))).ravel()
    _, first, edge = np.unique(key, return_index=True, return_inverse=True)
    edge = edge.ravel()
    p, q = p[first], q[first]
    length = np.hypot(*(q - p).T)
    per_cell = np.bincount(ring[seg], weights=length[edge])
    step = per_cell.mean() / vertices
    inner = np.maximum(0, np.round(length / step).astype(np.int64) - 1)  # points inside an edge
    amplitude = WIGGLE * length * rng.uniform(-1, 1, len(length))
    phase = rng.uniform(0, 2 * math.pi, len(length))
    while True:
        pts_start = np.cumsum(inner) - inner
        e = np.repeat(np.arange(len(inner)), inner)
        k = np.arange(len(e)) - pts_start[e] + 1
        t = k / (inner[e] + 1)
        d = q[e] - p[e]
        normal = np.c_[-d[:, 1], d[:, 0]] / length[e][:, None]
        w = amplitude[e] * np.sin(math.pi * t) * (0.6 + 0.4 * np.sin(5 * math.pi * t + phase[e]))
        pts = p[e] + d * t[:, None] + normal * w[:, None]
        # every cell edge: its first vertex, then the edge's inner points forwards or backwards
        cnt = 1 + inner[edge]
        start = np.cumsum(cnt) - cnt
        j = np.arange(int(cnt.sum())) - np.repeat(start, cnt)  # 0 = the vertex, 1.. = inner
        ce = np.repeat(np.arange(len(seg)), cnt)
        fw = ~np.repeat(flip, cnt)
        idx = np.where(fw, j - 1, inner[edge[ce]] - j)  # which inner point of the edge
        src = pts_start[edge[ce]] + idx
        pts = np.r_[pts, np.zeros((1, 2))]  # (a last row, so that no index is out of range)
        out = np.where((j == 0)[:, None], xy[seg[ce]], pts[np.clip(src, 0, len(pts) - 1)])
        owner = ring[seg[ce]]
        geoms = shapely.polygons(shapely.linearrings(out, indices=owner))
        bad = ~shapely.is_valid(geoms)
        if not bad.any():
            return geoms
        amplitude[edge[np.isin(ring[seg], np.flatnonzero(bad))]] = 0.0  # straighten, try again


def random_points(
    n: int, seed: int, extent: tuple[float, float, float, float] = EXTENT
) -> tuple[Points, Points]:
    """n uniform points over the box."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def boundary_points(geoms: list[BaseGeometry], n: int, seed: int) -> tuple[Points, Points]:
    """n points on and beside the grids' boundaries: shared vertices, points along shared edges
    (as near as floats get), and one ulp off a vertex."""
    rng = np.random.default_rng(seed)
    xy, ring = shapely.get_coordinates(shapely.get_exterior_ring(geoms), return_index=True)
    pick = rng.choice(len(xy) - 1, n)
    pick = np.where(ring[pick] == ring[pick + 1], pick, pick - 1)  # an edge's first vertex
    a, b = xy[pick], xy[pick + 1]
    t = rng.uniform(0, 1, n)[:, None]
    kind = rng.integers(0, 4, n)[:, None]
    out = np.where(kind == 0, a, np.where(kind == 1, a + (b - a) * t, a + (b - a) * 0.5))
    out = np.where(kind == 3, np.nextafter(a, rng.choice([-np.inf, np.inf], (n, 2))), out)
    return out[:, 0].copy(), out[:, 1].copy()
