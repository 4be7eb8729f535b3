"""Exact in-process point location against grid layers, backed by a regular cell index.

A layer is a set of (code, Polygon | MultiPolygon) in lon/lat degrees.  A point is in a polygon when
the polygon *covers* it, boundary included, exactly as ``shapely.covers(polygon, Point(x, y))``
(and PostGIS ``ST_Covers``).  A :class:`PartitionLayer` answers at most one code per point: on a
shared edge or in an overlap the smallest code in plain string order wins.  An
:class:`OverlayLayer` answers every code covering the point.

Both keep their codes sorted ascending (``layer.codes``); every index they return refers to that
sorted tuple, not to the order the codes were given in.

The index is a regular grid of cells over the layer's extent.  Each cell lists the polygons that
intersect the cell box grown by ``eps`` and flags those that *properly contain* the grown box.
``eps`` (at least 1e-9 degrees) is far larger than the rounding of ``floor((x - x0) / dx)``, so a
point always lies in the grown box of the cell it is hashed to: a flagged polygon covers it with no
test, an unlisted polygon cannot cover it, and only the remaining (boundary) candidates are tested
with a prepared ``intersects_xy``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["OverlayLayer", "PartitionLayer"]

MIN_EPS = 1e-9  # degrees, ~0.1 mm
CELLS_PER_POLYGON = 4096  # ~64 x 64 cells per polygon keeps boundary cells to a few percent
_NONE = -1  # cell state: no polygon touches the cell
_TEST = -2  # cell state: candidates need testing (partition) / has candidates (overlay)


def grid_shape(width: float, height: float, n_polygons: int, max_cells: int) -> tuple[int, int]:
    """Number of cell columns and rows for an extent: square-ish cells, at most max_cells a side."""
    target = min(max_cells * max_cells, CELLS_PER_POLYGON * max(n_polygons, 4))
    if width <= 0 or height <= 0:  # degenerate extent: one row or column
        return (max(1, min(max_cells, target)) if width > 0 else 1,
                max(1, min(max_cells, target)) if height > 0 else 1)
    side = math.sqrt(width * height / target)
    nx = min(max_cells, max(1, round(width / side)))
    ny = min(max_cells, max(1, round(height / side)))
    return nx, ny


class _Layer:
    """Validation, code sorting and the cell index shared by both layer kinds."""

    codes: tuple[str, ...]
    geometries: tuple[BaseGeometry, ...]

    def __init__(
        self, codes: Sequence[str], geometries: Sequence[BaseGeometry], max_cells: int = 512
    ) -> None:
        if len(codes) != len(geometries):
            raise ValueError(f"{len(codes)} codes but {len(geometries)} geometries")
        if max_cells < 1:
            raise ValueError("max_cells must be at least 1")
        pairs = sorted(zip(codes, geometries, strict=True), key=lambda cg: cg[0])
        for i, (code, geom) in enumerate(pairs):
            _check(code, geom)
            if i and pairs[i - 1][0] == code:
                raise ValueError(f"duplicate code {code!r}")
        self.codes = tuple(c for c, _ in pairs)
        self.geometries = tuple(g for _, g in pairs)
        self._geoms = np.array(self.geometries, dtype=object)
        shapely.prepare(self._geoms)  # prepares the caller's (immutable) geometry objects in place
        self._build(max_cells)

    @property
    def shape(self) -> tuple[int, int]:
        """The cell grid as (columns, rows)."""
        return self._nx, self._ny

    def _build(self, max_cells: int) -> None:
        n = len(self._geoms)
        if n == 0:
            self._x0 = self._y0 = math.inf
            self._x1 = self._y1 = -math.inf
            self._nx = self._ny = 0
            self._sx = self._sy = 0.0
            self._set_arrays(np.zeros(0, np.int32), np.zeros(1, np.int32),
                             np.zeros(0, np.int32), np.zeros(0, bool))
            return
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(self._geoms))
        self._x0, self._y0, self._x1, self._y1 = x0, y0, x1, y1
        w, h = x1 - x0, y1 - y0
        nx, ny = grid_shape(w, h, n, max_cells)
        self._nx, self._ny = nx, ny
        self._sx = nx / w if w > 0 else 0.0
        self._sy = ny / h if h > 0 else 0.0
        # eps dwarfs the few-ulp rounding of the cell arithmetic at this coordinate magnitude.
        self.eps = max(MIN_EPS, 1e-12 * max(abs(x0), abs(x1), abs(y0), abs(y1)))
        xs = x0 + w * np.arange(nx + 1) / nx
        ys = y0 + h * np.arange(ny + 1) / ny
        ix = np.tile(np.arange(nx), ny)
        iy = np.repeat(np.arange(ny), nx)
        boxes = shapely.box(xs[ix] - self.eps, ys[iy] - self.eps,
                            xs[ix + 1] + self.eps, ys[iy + 1] + self.eps)
        # Query the prepared polygons against a tree of the boxes, then flag the proper interiors.
        poly_i, cell_i = shapely.STRtree(boxes).query(self._geoms, predicate="intersects")
        order = np.lexsort((poly_i, cell_i))  # by cell, then by code
        poly_i, cell_i = poly_i[order], cell_i[order]
        full = shapely.contains_properly(self._geoms[poly_i], boxes[cell_i])
        ptr = np.zeros(nx * ny + 1, np.int64)
        np.cumsum(np.bincount(cell_i, minlength=nx * ny), out=ptr[1:])
        # Partition answer for a cell: its smallest-code candidate when that one contains it.
        state = np.full(nx * ny, _NONE, np.int32)
        has = ptr[1:] > ptr[:-1]
        first = ptr[:-1][has]
        state[has] = np.where(full[first], poly_i[first], _TEST)
        self._set_arrays(state, ptr.astype(np.int32), poly_i.astype(np.int32), full)
        for g in self.geometries:  # build GEOS's lazy point locators now, not on a first request
            shapely.intersects_xy(g, x0, y0)

    def _set_arrays(
        self, state: NDArray[np.int32], ptr: NDArray[np.int32], poly: NDArray[np.int32],
        full: NDArray[np.bool_],
    ) -> None:
        self._state, self._ptr, self._poly, self._full = state, ptr, poly, full
        # memoryviews index to plain Python ints/bools, which keeps the scalar path cheap.
        self._state_mv, self._ptr_mv = memoryview(state), memoryview(ptr)
        self._poly_mv, self._full_mv = memoryview(poly), memoryview(full)

    def _cells(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.intp]:
        """Cell id of every point, -1 outside the extent (NaN included)."""
        with np.errstate(invalid="ignore"):
            ix = ((x - self._x0) * self._sx).astype(np.intp)
            iy = ((y - self._y0) * self._sy).astype(np.intp)
        np.clip(ix, 0, self._nx - 1, out=ix)  # x == x1 (and cast garbage outside) stays in range
        np.clip(iy, 0, self._ny - 1, out=iy)
        cell = iy * self._nx + ix
        inside = (x >= self._x0) & (x <= self._x1) & (y >= self._y0) & (y <= self._y1)
        cell[~inside] = -1
        return cell

    def _pairs(
        self, pts: NDArray[np.intp], cell: NDArray[np.intp]
    ) -> tuple[NDArray[np.intp], NDArray[np.int32], NDArray[np.bool_]]:
        """Expand points to (point, candidate polygon, full) pairs, grouped by polygon."""
        start = self._ptr[cell]
        cnt = self._ptr[cell + 1] - start
        total = int(cnt.sum())
        base = np.repeat(start.astype(np.intp) - (np.cumsum(cnt) - cnt), cnt)
        k = base + np.arange(total)
        pp = self._poly[k]
        order = np.argsort(pp, kind="stable")  # stable: points stay ascending within a polygon
        return np.repeat(pts, cnt)[order], pp[order], self._full[k][order]

    def _test(self, p: int, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        return np.asarray(shapely.intersects_xy(self._geoms[p], x, y), dtype=bool)

    def _candidates(self, x: float, y: float) -> tuple[int, int, int]:
        """Scalar hashing: (cell state, first pair, end pair); state _NONE outside the extent."""
        if not (self._x0 <= x <= self._x1 and self._y0 <= y <= self._y1):
            return _NONE, 0, 0
        i = min(int((x - self._x0) * self._sx), self._nx - 1)
        j = min(int((y - self._y0) * self._sy), self._ny - 1)
        c = j * self._nx + i
        return self._state_mv[c], self._ptr_mv[c], self._ptr_mv[c + 1]


class PartitionLayer(_Layer):
    """A layer answering at most one code per point (smallest code on shared edges/overlaps)."""

    def locate(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int32]:
        """Index into ``self.codes`` (sorted) of the code covering each point, -1 where none."""
        xa, ya = _xy(x, y)
        out = np.full(len(xa), -1, np.int32)
        if self._nx == 0 or len(xa) == 0:
            return out
        cell = self._cells(xa, ya)
        state = np.where(cell >= 0, self._state[cell], _NONE)
        np.maximum(state, -1, out=out)  # direct answers; _TEST cells start as -1
        need = np.flatnonzero(state == _TEST)
        if len(need) == 0:
            return out
        pts, pp, full = self._pairs(need, cell[need])
        cuts = np.flatnonzero(np.diff(pp)) + 1
        for lo, hi in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(pp)].tolist(), strict=True):
            q, f = pts[lo:hi], full[lo:hi]
            open_ = out[q] == -1  # ascending codes: a point already answered keeps its code
            q, f = q[open_], f[open_]
            hit = f.copy()
            t = ~f
            if t.any():
                hit[t] = self._test(int(pp[lo]), xa[q[t]], ya[q[t]])
            out[q[hit]] = pp[lo]
        return out

    def locate_point(self, x: float, y: float) -> str | None:
        """The code covering (x, y), or None; no numpy arrays on this path."""
        state, lo, hi = self._candidates(x, y)
        if state >= 0:
            return self.codes[state]
        for k in range(lo, hi):
            p = self._poly_mv[k]
            if self._full_mv[k] or shapely.intersects_xy(self.geometries[p], x, y):
                return self.codes[p]
        return None


class OverlayLayer(_Layer):
    """A layer answering every code covering a point."""

    def locate(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.int32]]:
        """(point index, index into sorted ``self.codes``) of every cover, by point then code."""
        xa, ya = _xy(x, y)
        if self._nx == 0 or len(xa) == 0:
            return np.zeros(0, np.intp), np.zeros(0, np.int32)
        cell = self._cells(xa, ya)
        need = np.flatnonzero(cell >= 0)
        need = need[self._state[cell[need]] != _NONE]
        pts, pp, hit = self._pairs(need, cell[need])
        hit = hit.copy()
        cuts = np.r_[0, np.flatnonzero(np.diff(pp)) + 1, len(pp)].tolist()
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            t = np.flatnonzero(~hit[lo:hi]) + lo
            if len(t):
                hit[t] = self._test(int(pp[lo]), xa[pts[t]], ya[pts[t]])
        pts, pp = pts[hit], pp[hit]
        order = np.lexsort((pp, pts))
        return pts[order], pp[order]

    def locate_point(self, x: float, y: float) -> list[str]:
        """Sorted codes covering (x, y); empty when none."""
        _, lo, hi = self._candidates(x, y)
        out = []
        for k in range(lo, hi):  # pairs are stored in code order
            p = self._poly_mv[k]
            if self._full_mv[k] or shapely.intersects_xy(self.geometries[p], x, y):
                out.append(self.codes[p])
        return out


def _check(code: str, geom: BaseGeometry) -> None:
    if not isinstance(code, str):
        raise ValueError(f"code {code!r} is not a string")
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"{code}: expected a Polygon or MultiPolygon, got {type(geom).__name__}")
    if geom.is_empty:
        raise ValueError(f"{code}: empty geometry")
    if not geom.is_valid:
        raise ValueError(f"{code}: invalid geometry ({shapely.is_valid_reason(geom)})")


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x has {xa.size} values but y has {ya.size}")
    return xa, ya
