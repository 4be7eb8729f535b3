"""Exact in-process point location against grid layers, backed by an adaptive cell index.

A layer is a set of (code, Polygon | MultiPolygon) in lon/lat degrees.  A point is in a polygon when
the polygon *covers* it, boundary included, exactly as ``shapely.covers(polygon, Point(x, y))``
(and PostGIS ``ST_Covers``).  A :class:`PartitionLayer` answers at most one code per point: on a
shared edge or in an overlap the smallest code in plain string order wins.  An
:class:`OverlayLayer` answers every code covering the point.

Both keep their codes sorted ascending (``layer.codes``); every index they return refers to that
sorted tuple, not to the order the codes were given in.

The index.  A regular top grid over the layer's extent (sized by its polygons and vertices, at
most ``max_cells`` a side, with one more ring of cells all round that lies outside every
polygon); a cell listing more than ``LEAF_EDGES`` edges is split in four, and so on down, so
cells are small where boundaries are dense and large elsewhere.  A cell lists every edge that
may touch its box grown by ``eps`` (``eps`` dwarfs the rounding of ``floor((x - x0) / dx)``, so a
point lies in the grown box of the cell it is hashed to) and every polygon that has edges there
or covers the cell's *reference point*: a top cell's centre, or a smaller cell's parent's centre
(one of its corners).  A cell with no edges answers at once.  In a cell with edges, a polygon
covers the point q exactly when it covers the reference point r and the segment q-r crosses its
edges an even number of times; q-r lies in the cell's grown box, so only the cell's own edges
can cross it.  Which side of each edge's line r lies on is stored; a query asks which side q
lies on (one orientation), and only where q and r lie on either side whether the edge's ends lie
on either side of q-r (two more).  Every orientation is Shewchuk's orient2d with its error bound
(``ERR``): a sign the bound cannot certify (a point on an edge or within rounding of its line, a
vertex on the line q-r) sends the point to GEOS (``intersects_xy`` on the polygons of its cell),
which is what the answer is defined by.  Points on shared edges and vertices therefore end in
GEOS: rare in real data, and always exact.  An edge two polygons share (the same two vertices,
bit for bit, as neighbours in a partition have) is kept once and flips both.

Building, in numpy throughout.  Edges are hashed to the top cells their grown boxes overlap
(long edges in pieces no longer than a cell; a box over four cells is checked against the edge's
line).  Which polygons cover each top cell's centre comes from one horizontal ray per row of
centres: the crossings of the polygons' edges with the row's centre line, sorted along it; the
centres between a polygon's first and second crossing, third and fourth, ... are in it (a
crossing next to a centre is placed by an orientation test).  A cell with no edges that one
polygon covers answers with it.  A split cell's centre is decided from its reference point along
the segment between the two, which lies in the cell.  A reference point whose answer cannot be
certified makes its cell a leaf answered by GEOS; the grid's origin sits outside the extent by
irrational fractions of it, so that centres miss the round coordinates drawn boundaries use.

Memory.  The edges' vertices (16 bytes each, shared edges once), 8 bytes per (leaf, edge) and a
few bytes per cell: ~380 MiB for 100,000 grids of ~200 vertices, and no GEOS prepared geometry
(whose point-in-area indexes cost several times that).  ``nbytes()`` tells.  A build that size
needs ~2.5 GiB of scratch for a while and gives it back to the system when it ends.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["OverlayLayer", "PartitionLayer", "grid_shape"]

MIN_EPS = 1e-9  # degrees, ~0.1 mm
CELLS_PER_POLYGON = 4096  # top grid budget: ~64 x 64 cells per polygon ...
CELLS_PER_VERTEX = 16  # ... or 16 per boundary vertex, whichever is more
LEAF_EDGES = 8  # a cell listing more edges than this is split in four
MAX_DEPTH = 20  # levels of splitting under a top cell, at most
MAX_SLOTS = 63  # polygons a cell answers by bit mask; a cell with more is answered by GEOS
ERR = 3.3306690738754716e-16  # (3 + 16 e) e, e = 2**-53: Shewchuk's bound for orient2d
PAD = (0.0007071067811865476, 0.0005773502691896258)  # the grid's margins, shares of the extent
_CHUNK = 1 << 22  # edges hashed at a time while building (bounds the scratch memory)
_TRIM_VERTICES = 20_000  # from this size on, a build hands its scratch memory back at the end
_NONE = -1  # cell state: no polygon covers any point of the cell
_SPLIT = -(1 << 30)  # states <= _SPLIT: split, children at index _SPLIT - state
# Other states: >= 0 is the answer itself (partition) or the one covering polygon (overlay);
# -2 .. _SPLIT + 1 is leaf (-2 - state), answered from its edges.

_BIT = np.zeros(256, np.uint64)  # _BIT[s]: the mask of slot s (0 from 64 on: no slot)
_BIT[:64] = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
_BITS = [int(v) for v in _BIT]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Floats = NDArray[np.floating[Any]]
Bool = NDArray[np.bool_]


def grid_shape(
    width: float,
    height: float,
    n_polygons: int,
    n_vertices: int,
    max_cells: int,
    min_size: float = 0.0,
) -> tuple[int, int]:
    """Top-level cell columns and rows for an extent: square-ish cells, at most max_cells a side."""
    budget = max(CELLS_PER_POLYGON * max(n_polygons, 4), CELLS_PER_VERTEX * n_vertices)
    target = min(max_cells * max_cells, budget)
    # square cells, unless a capped side forces them wider; none smaller than min_size
    size = max(math.sqrt(width * height / target), width / max_cells, height / max_cells, min_size)
    if size <= 0:  # a point-like extent
        return 1, 1
    nx = min(max_cells, max(1, round(width / size)))
    ny = min(max_cells, max(1, round(height / size)))
    return nx, ny


def _orient(
    ax: Floats, ay: Floats, bx: Floats, by: Floats, cx: Floats, cy: Floats
) -> tuple[Floats, Bool]:
    """orient2d(a, b, c) (> 0: c left of a->b) and whether its sign is not certain."""
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    return det, np.abs(det) <= ERR * (np.abs(left) + np.abs(right))


def _crossings(
    xy: NDArray[np.complex128], e: I64, qx: F64, qy: F64, rx: F64, ry: F64
) -> tuple[Bool, Bool]:
    """Whether the segment q-r crosses edge e (vertices e, e + 1), and whether that is uncertain
    (a vertex within rounding of the line q-r, or q or r within rounding of the edge's line).

    Every orientation is Shewchuk's orient2d: the products of differences taken from the input
    coordinates, and the sign trusted only beyond ERR times the sum of the products' sizes."""
    a = xy.take(e)
    b = xy.take(e + 1)
    ax = a.real - qx  # a - q
    ay = a.imag - qy
    bx = b.real - qx
    by = b.imag - qy
    dx = rx - qx  # r - q
    dy = ry - qy
    left = dx * ay
    right = dy * ax
    sa = left - right  # orient2d(r, a, q): which side of the line q-r a lies on
    np.abs(left, out=left)
    np.abs(right, out=right)
    left += right
    left *= ERR
    amb = np.abs(sa) <= left
    left = dx * by
    right = dy * bx
    sb = left - right
    np.abs(left, out=left)
    np.abs(right, out=right)
    left += right
    left *= ERR
    amb |= np.abs(sb) <= left
    hit = (sa > 0) != (sb > 0)
    # only edges with an end on each side of the line: are q and r on either side of the edge?
    t = np.flatnonzero(hit)
    ax, ay, bx, by, dx, dy = ax[t], ay[t], bx[t], by[t], dx[t], dy[t]
    left = ax * by
    right = ay * bx
    sq = left - right  # orient2d(a, b, q)
    amb_q = np.abs(sq) <= ERR * (np.abs(left) + np.abs(right))
    a, b = a[t], b[t]
    rxt, ryt = rx[t], ry[t]
    ax = a.real - rxt
    ay = a.imag - ryt
    bx = b.real - rxt
    by = b.imag - ryt
    left = ax * by
    right = ay * bx
    sr = left - right  # orient2d(a, b, r)
    amb_r = np.abs(sr) <= ERR * (np.abs(left) + np.abs(right))
    amb[t] |= amb_q | amb_r
    hit[t] = (sq > 0) != (sr > 0)
    return hit, amb


class _Layer:
    """Validation, code sorting and the adaptive cell index shared by both layer kinds."""

    codes: tuple[str, ...]
    geometries: tuple[BaseGeometry, ...]
    eps: float
    _overlay = False
    # the grid, set by _Builder
    _x0: float  # the polygons' extent: points off it are outside
    _y0: float
    _x1: float
    _y1: float
    _gx0: float  # the grid's origin, a little outside the extent
    _gy0: float
    _fsx: float  # finest cells per unit
    _fsy: float
    _nx: int  # top cells a side
    _ny: int
    _fnx: int  # finest cells a side
    _fny: int
    _depth: int
    _cw: F64  # cell width and height per level
    _ch: F64
    # the index, set by _Builder
    _state: NDArray[np.int32]  # every cell: top cells, then each level's children
    _cand_ptr: NDArray[np.int32]  # per leaf: its polygons (ascending code) in _cand ...
    _cand: NDArray[np.int32]
    _ref: NDArray[np.uint64]  # ... and which of them cover its reference point, a bit per slot
    _geos: Bool  # answered by GEOS: a reference point within rounding of an edge, or > 63 slots
    _ent_ptr: NDArray[np.int32]  # per leaf: its edges ...
    _ent: I64  # ... each: its first vertex in _xy | (slot of a polygon it bounds | 128 if the
    # reference point lies left of it) << 32 | (slot of the other polygon it bounds, else 255) << 40
    _xy: NDArray[np.complex128]  # the edges' vertices: edge at v runs from v to v + 1

    def __init__(
        self, codes: Sequence[str], geometries: Sequence[BaseGeometry], max_cells: int = 4096
    ) -> None:
        if len(codes) != len(geometries):
            raise ValueError(f"{len(codes)} codes but {len(geometries)} geometries")
        if max_cells < 1:
            raise ValueError("max_cells must be at least 1")
        _check(codes, geometries)
        pairs = sorted(zip(codes, geometries, strict=True), key=lambda cg: cg[0])
        for i in range(1, len(pairs)):
            if pairs[i - 1][0] == pairs[i][0]:
                raise ValueError(f"duplicate code {pairs[i][0]!r}")
        self.codes = tuple(c for c, _ in pairs)
        self.geometries = tuple(g for _, g in pairs)
        self._geoms = np.empty(len(pairs), dtype=object)
        self._geoms[:] = self.geometries
        _Builder(self, max_cells).build()
        self._outside = len(self._state) - 1
        self._split_any = bool((self._state <= _SPLIT).any())
        self._views()

    def _views(self) -> None:
        # plain Python copies of the scalars and memoryviews of the arrays: cheap scalar path
        self._cw_list = [float(v) for v in self._cw]
        self._ch_list = [float(v) for v in self._ch]
        self._state_mv = self._state.data
        self._cand_ptr_mv = self._cand_ptr.data
        self._cand_mv = self._cand.data
        self._ref_mv = self._ref.data
        self._geos_mv = self._geos.view(np.uint8).data
        self._ent_ptr_mv = self._ent_ptr.data
        self._ent_mv = self._ent.data
        self._xyf_mv = self._xy.view(np.float64).data
        self._slots = int(np.diff(self._cand_ptr).max(initial=0))  # most polygons of a leaf

    def __getstate__(self) -> dict[str, Any]:
        """A layer pickles (to ship one to other processes) without its memoryviews, which
        are remade from the arrays when it is unpickled."""
        return {k: v for k, v in self.__dict__.items() if not k.endswith("_mv")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._views()

    @property
    def shape(self) -> tuple[int, int]:
        """The top-level cell grid as (columns, rows)."""
        return self._nx, self._ny

    @property
    def depth(self) -> int:
        """Levels of splitting allowed under a top cell."""
        return self._depth

    def nbytes(self) -> int:
        """Bytes held by the index's arrays (the polygons themselves not counted)."""
        return sum(
            a.nbytes
            for a in (
                self._state,
                self._cand_ptr,
                self._cand,
                self._ref,
                self._geos,
                self._ent_ptr,
                self._ent,
                self._xy,
            )
        )

    # --- many points ---------------------------------------------------------------------

    def _hash(
        self, x: F64, y: F64
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32], NDArray[np.int8] | None]:
        """Per point: the state of its leaf cell, the finest-grid column and row, and the level
        of the leaf (None: every point stopped at the top)."""
        with np.errstate(invalid="ignore"):  # NaN and far-away points cast to garbage, masked below
            fx = x - self._gx0
            fx *= self._fsx
            ix = fx.astype(np.int32)
            fy = y - self._gy0
            fy *= self._fsy
            iy = fy.astype(np.int32)
        np.clip(ix, 0, self._fnx - 1, out=ix)  # NaN, inf and points off the grid: the rim
        np.clip(iy, 0, self._fny - 1, out=iy)
        d = self._depth
        cell = iy >> d
        cell *= self._nx
        cell += ix >> d
        state = self._state.take(cell)
        if self._split_any:
            todo = np.flatnonzero(state <= _SPLIT)
        else:
            return state, ix, iy, None
        level = np.zeros(len(x), np.int8)
        k = 0
        while len(todo):
            k += 1
            child = _SPLIT - state[todo].astype(np.int64)
            child += ((iy[todo] >> (d - k)) & 1) << 1
            child += (ix[todo] >> (d - k)) & 1
            s = self._state.take(child)
            state[todo] = s
            level[todo] = k
            todo = todo[s <= _SPLIT]
        return state, ix, iy, level

    def _leaf_masks(
        self,
        pts: I64,
        state: NDArray[np.int32],
        ix: NDArray[np.int32],
        iy: NDArray[np.int32],
        level: NDArray[np.int8] | None,
        x: F64,
        y: F64,
    ) -> tuple[I64, NDArray[np.uint64], Bool]:
        """For points in leaf cells: the leaf, the bit mask of its polygons covering the point,
        and whether GEOS must answer instead.

        A polygon covers q when it covers the leaf's reference point r and q-r crosses its
        edges an even number of times.  Whether q and r lie on either side of an edge's line
        is one orientation of q (r's side is stored); only then is it asked whether the edge's
        ends lie on either side of the line q-r."""
        leaf = (-2 - state.take(pts)).astype(np.int64)
        qx, qy = x.take(pts), y.take(pts)
        if level is None:  # every leaf a top cell: the reference is its centre
            rx = self._gx0 + ((ix.take(pts) >> self._depth) + 0.5) * self._cw[0]
            ry = self._gy0 + ((iy.take(pts) >> self._depth) + 0.5) * self._ch[0]
        else:  # below the top: the parent's centre
            rl = np.maximum(level.take(pts), 1) - 1
            sh = self._depth - rl.astype(np.int32)
            rx = self._gx0 + ((ix.take(pts) >> sh) + 0.5) * self._cw.take(rl)
            ry = self._gy0 + ((iy.take(pts) >> sh) + 0.5) * self._ch.take(rl)
        lo = self._ent_ptr.take(leaf)
        cnt = (self._ent_ptr.take(leaf + 1) - lo).astype(np.int64)
        mask = self._ref.take(leaf)
        geos = self._geos.take(leaf)
        has = np.flatnonzero(cnt)
        if len(has) == 0:
            return leaf, mask, geos
        c = cnt[has]
        starts = np.cumsum(c) - c
        own = np.repeat(np.arange(len(has)), c)  # the point of each (point, edge) pair
        ent = self._ent.take(lo.take(has).take(own) + (np.arange(len(own)) - starts.take(own)))
        v = ent & 0xFFFFFFFF
        a = self._xy.take(v)
        v += 1
        b = self._xy.take(v)
        del v
        qx, qy = qx.take(has), qy.take(has)
        pqx, pqy = qx.take(own), qy.take(own)
        ax = a.real - pqx  # a - q
        ay = a.imag - pqy
        bx = b.real - pqx  # b - q
        by = b.imag - pqy
        del a, b, pqx, pqy
        left = ax * by
        right = ay * bx
        sq = left - right  # orient2d(a, b, q)
        np.abs(left, out=left)
        np.abs(right, out=right)
        left += right
        left *= ERR
        amb = np.abs(sq) <= left
        del left, right
        # q on the other side of the edge's line than r (a certain sign): does q-r cross it?
        t = np.flatnonzero((sq > 0) != ((ent >> 39) & 1).astype(bool))
        ot = own.take(t)
        dx = (rx.take(has) - qx).take(ot)  # r - q
        dy = (ry.take(has) - qy).take(ot)
        ax, ay, bx, by = ax.take(t), ay.take(t), bx.take(t), by.take(t)
        left = dx * ay
        right = dy * ax
        sa = left - right  # orient2d(r, a, q)
        amb_t = np.abs(sa) <= ERR * (np.abs(left) + np.abs(right))
        left = dx * by
        right = dy * bx
        sb = left - right  # orient2d(r, b, q)
        amb_t |= np.abs(sb) <= ERR * (np.abs(left) + np.abs(right))
        amb[t] |= amb_t
        t = t[(sa > 0) != (sb > 0)]
        et = ent.take(t)
        flip = np.zeros(len(own), np.uint64)
        flip[t] = _BIT.take((et >> 32) & 127) | _BIT.take(et >> 40)
        mask[has] ^= np.bitwise_xor.reduceat(flip, starts)
        geos[has] |= np.logical_or.reduceat(amb, starts)
        return leaf, mask, geos

    def _geos_pairs(self, pts: I64, leaf: I64, x: F64, y: F64) -> tuple[I64, I64]:
        """(point, polygon) for every polygon of the point's leaf that covers it, by GEOS, sorted
        by point then polygon."""
        lo = self._cand_ptr.take(leaf).astype(np.int64)
        cnt = self._cand_ptr.take(leaf + 1) - lo
        owner = np.repeat(pts, cnt)
        poly = self._cand.take(_ranges(lo, cnt)).astype(np.int64)
        hit = shapely.intersects_xy(self._geoms.take(poly), x.take(owner), y.take(owner))
        return owner[hit], poly[hit]

    # --- one point -----------------------------------------------------------------------

    def _top(self, x: float, y: float) -> tuple[int, int, int]:
        """Scalar hashing, with no numpy on the way: (top cell's state, column, row) of a point
        on the extent (which is never off the grid), or _NONE."""
        if not (self._x0 <= x <= self._x1 and self._y0 <= y <= self._y1):  # NaN fails too
            return _NONE, 0, 0
        i = int((x - self._gx0) * self._fsx)
        j = int((y - self._gy0) * self._fsy)
        return self._state_mv[(j >> self._depth) * self._nx + (i >> self._depth)], i, j

    def _covering(self, state: int, i: int, j: int, x: float, y: float) -> list[int]:
        """The polygons covering (x, y), ascending, from a split or leaf top cell's state (the
        scalar twin of the descent in _hash and of _leaf_masks)."""
        d = self._depth
        k = 0
        while state <= _SPLIT:
            k += 1
            state = self._state_mv[
                _SPLIT - state + (((j >> (d - k)) & 1) << 1) + ((i >> (d - k)) & 1)
            ]
        if state >= 0:
            return [state]
        if state == _NONE:
            return []
        leaf = -2 - state
        lo, hi = self._cand_ptr_mv[leaf], self._cand_ptr_mv[leaf + 1]
        cands = [self._cand_mv[n] for n in range(lo, hi)]
        mask: int | None = None if self._geos_mv[leaf] else self._ref_mv[leaf]
        if mask is not None:
            rl = max(k, 1) - 1
            sh = self._depth - rl
            rx = self._gx0 + ((i >> sh) + 0.5) * self._cw_list[rl]
            ry = self._gy0 + ((j >> sh) + 0.5) * self._ch_list[rl]
            xyf = self._xyf_mv
            for n in range(self._ent_ptr_mv[leaf], self._ent_ptr_mv[leaf + 1]):
                ent = self._ent_mv[n]
                v = 2 * (ent & 0xFFFFFFFF)
                ax, ay, bx, by = xyf[v] - x, xyf[v + 1] - y, xyf[v + 2] - x, xyf[v + 3] - y
                left, right = ax * by, ay * bx
                sq = left - right
                if abs(sq) <= ERR * (abs(left) + abs(right)):
                    mask = None
                    break
                info = (ent >> 32) & 255
                if (sq > 0) == (info >= 128):
                    continue
                dx, dy = rx - x, ry - y
                left, right = dx * ay, dy * ax
                sa = left - right
                if abs(sa) <= ERR * (abs(left) + abs(right)):
                    mask = None
                    break
                left, right = dx * by, dy * bx
                sb = left - right
                if abs(sb) <= ERR * (abs(left) + abs(right)):
                    mask = None
                    break
                if (sa > 0) != (sb > 0):
                    mask ^= _BITS[info & 127] | _BITS[ent >> 40]
        if mask is not None:
            return [p for s, p in enumerate(cands) if mask >> s & 1]
        return [p for p in cands if shapely.intersects_xy(self.geometries[p], x, y)]


class PartitionLayer(_Layer):
    """A layer answering at most one code per point (smallest code on shared edges/overlaps)."""

    def locate(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int32]:
        """Index into the sorted ``self.codes`` of the code covering each point, -1 where none."""
        xa, ya = _xy(x, y)
        if len(self.codes) == 0 or len(xa) == 0:
            return np.full(len(xa), -1, np.int32)
        state, ix, iy, level = self._hash(xa, ya)
        out = np.maximum(state, -1)
        pts = np.flatnonzero(state <= -2)
        if len(pts) == 0:
            return out
        leaf, mask, geos = self._leaf_masks(pts, state, ix, iy, level, xa, ya)
        low = mask & (~mask + np.uint64(1))  # the lowest set bit: the smallest code covering
        slot = np.frexp(low.astype(np.float64))[1] - 1
        found = np.flatnonzero(mask)
        ans = np.full(len(pts), -1, np.int32)
        ans[found] = self._cand.take(self._cand_ptr.take(leaf[found]) + slot[found])
        g = np.flatnonzero(geos)
        if len(g):
            ans[g] = -1
            gp, poly = self._geos_pairs(g, leaf[g], xa.take(pts), ya.take(pts))
            first = np.flatnonzero(np.diff(gp, prepend=-1))  # ascending: the smallest code
            ans[gp[first]] = poly[first]
        out[pts] = ans
        return out

    def locate_point(self, x: float, y: float) -> str | None:
        """The code covering (x, y), or None."""
        state, i, j = self._top(x, y)
        if state >= 0:
            return self.codes[state]
        if state == _NONE:
            return None
        found = self._covering(state, i, j, x, y)
        return self.codes[found[0]] if found else None


class OverlayLayer(_Layer):
    """A layer answering every code covering a point."""

    _overlay = True

    def locate(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.int32]]:
        """(point index, index into the sorted ``self.codes``) of each cover, by point then code."""
        xa, ya = _xy(x, y)
        if len(self.codes) == 0 or len(xa) == 0:
            return np.zeros(0, np.intp), np.zeros(0, np.int32)
        state, ix, iy, level = self._hash(xa, ya)
        one = np.flatnonzero(state >= 0)
        got_p, got_c = [one], [state[one].astype(np.int64)]
        pts = np.flatnonzero(state <= -2)
        if len(pts):
            leaf, mask, geos = self._leaf_masks(pts, state, ix, iy, level, xa, ya)
            ok = np.flatnonzero(~geos & (mask != 0))
            for s in range(min(self._slots, MAX_SLOTS)):
                on = ok[(mask[ok] >> np.uint64(s)) & np.uint64(1) != 0]
                got_p.append(pts[on])
                got_c.append(self._cand.take(self._cand_ptr.take(leaf[on]) + s).astype(np.int64))
            g = np.flatnonzero(geos)
            if len(g):
                gp, poly = self._geos_pairs(g, leaf[g], xa.take(pts), ya.take(pts))
                got_p.append(pts[gp])
                got_c.append(poly)
        p, c = np.concatenate(got_p), np.concatenate(got_c)
        order = np.lexsort((c, p))
        return p.take(order).astype(np.intp), c.take(order).astype(np.int32)

    def locate_point(self, x: float, y: float) -> list[str]:
        """Sorted codes covering (x, y); empty when none."""
        state, i, j = self._top(x, y)
        if state >= 0:
            return [self.codes[state]]
        if state == _NONE:
            return []
        return [self.codes[p] for p in self._covering(state, i, j, x, y)]


class _Level:
    """One level's cells while building: their edges (entries, sorted by cell) and their
    polygons (records, sorted by cell then polygon) with whether each covers the cell's
    reference point; every entry knows the records of the one or two polygons it bounds."""

    n: int  # cells at this level
    ci: NDArray[np.int64] | None  # column and row of each cell (None: top cells, by number)
    cj: NDArray[np.int64] | None
    nx: int
    ent_node: I64
    ent_seg: I64
    ent_r1: I64
    ent_r2: I64  # -1: the edge bounds one polygon
    r_node: I64
    r_poly: I64
    r_in: Bool  # covers the reference point (the cell's centre at the top, else the parent's)
    r_amb: Bool  # ... not certain
    r_edges: Bool  # has edges in the cell
    ent_side: NDArray[np.uint8] | None = None  # as _top_keys says (top cells only)
    pre: NDArray[np.int32] | None = None  # top cells' answers where one polygon covers them

    def coords(self, nodes: I64) -> tuple[I64, I64]:
        """Column and row of cells at their level."""
        if self.ci is None or self.cj is None:
            j, i = np.divmod(nodes, self.nx)
            return i, j
        return self.ci.take(nodes), self.cj.take(nodes)


class _Builder:
    """Builds a layer's index (see the module docstring), level by level, all in numpy."""

    def __init__(self, layer: _Layer, max_cells: int) -> None:
        self.layer = layer
        self.max_cells = max_cells

    def build(self) -> None:
        lay = self.layer
        geoms = lay._geoms
        n = len(geoms)
        lay._x0 = lay._y0 = math.inf  # an empty layer: every point is outside
        lay._x1 = lay._y1 = -math.inf
        lay._gx0 = lay._gy0 = lay._fsx = lay._fsy = 0.0
        lay._nx = lay._ny = lay._fnx = lay._fny = 1
        lay._depth = 0
        lay.eps = MIN_EPS
        lay._cw = lay._ch = np.ones(1)
        lay._xy = np.zeros(1, np.complex128)
        if n == 0:
            lay._state = np.full(1, _NONE, np.int32)
            _Leaves().store(lay)
            return
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
        w, h = x1 - x0, y1 - y0
        eps = max(MIN_EPS, 1e-12 * max(abs(x0), abs(x1), abs(y0), abs(y1)))
        gx0, gy0 = x0 - w * PAD[0] - eps, y0 - h * PAD[1] - eps
        gw, gh = x1 + w * PAD[1] + eps - gx0, y1 + h * PAD[0] + eps - gy0
        parts, part_poly = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        sizes = shapely.get_num_coordinates(rings)
        xy = shapely.get_coordinates(rings)
        vpoly = np.repeat(part_poly[ring_part].astype(np.int32), sizes)  # polygon of each vertex
        del parts, rings, ring_part, part_poly
        nx, ny = grid_shape(gw, gh, n, len(xy), min(self.max_cells, 1 << 14), 16 * eps)
        # one more cell all round, outside every polygon: points off the grid are clipped into
        # it and answered "none" with no test
        cw, ch = gw / nx, gh / ny
        gx0, gy0, gw, gh, nx, ny = gx0 - cw, gy0 - ch, gw + 2 * cw, gh + 2 * ch, nx + 2, ny + 2
        depth = 0
        size = min(cw, ch)
        while (
            depth < MAX_DEPTH
            and size / 2 ** (depth + 1) >= 16 * eps
            and max(nx, ny) << (depth + 1) <= 1 << 30
        ):
            depth += 1
        lay._x0, lay._y0, lay._x1, lay._y1 = x0, y0, x1, y1
        lay._gx0, lay._gy0 = gx0, gy0
        lay._nx, lay._ny, lay._depth, lay.eps = nx, ny, depth, eps
        lay._fnx, lay._fny = nx << depth, ny << depth
        lay._fsx, lay._fsy = lay._fnx / gw, lay._fny / gh
        lay._cw = np.array([gw / (nx << k) for k in range(depth + 1)])
        lay._ch = np.array([gh / (ny << k) for k in range(depth + 1)])
        self.nx, self.ny, self.depth, self.eps, self.npoly = nx, ny, depth, eps, n
        # edges: every vertex but the last of its ring starts one; an edge two polygons share
        # (the same two vertices, either way round) is kept once, bounding both
        is_edge = np.ones(len(xy), bool)
        is_edge[np.cumsum(sizes) - 1] = False
        is_edge[:-1] &= (xy[:-1] != xy[1:]).any(1)  # a repeated vertex starts no edge
        first = np.flatnonzero(is_edge)
        del is_edge
        keep, twin_poly = _twins(xy, first, vpoly)
        seg = first[keep]
        self.p1 = vpoly.take(seg)
        self.p2 = twin_poly[keep]
        del first, keep, twin_poly, vpoly
        # only the vertices of kept edges are stored
        used = np.zeros(len(xy), bool)
        used[seg] = True
        used[seg + 1] = True
        lay._xy = np.ascontiguousarray(xy[used]).view(np.complex128).ravel()
        self.seg = (np.cumsum(used) - 1).take(seg)
        del xy, used, seg
        self.xy = lay._xy
        self.box = self._boxes()
        states: list[NDArray[np.int32]] = []
        leaves = _Leaves()
        level: _Level | None = self._top()
        offset = nx * ny
        k = 0
        while level is not None:
            state, level = self._classify(level, k, offset, leaves)
            states.append(state)
            if level is not None:
                offset += level.n
            k += 1
        states.append(np.full(1, _NONE, np.int32))
        lay._state = np.concatenate(states).astype(np.int32)
        leaves.store(lay)
        if len(lay._xy) >= _TRIM_VERTICES:
            del states, leaves, level
            self.box = self.seg = self.p1 = self.p2 = np.zeros(0, np.int64)
            _release_scratch()

    def _boxes(self) -> NDArray[np.int32]:
        """Every edge's box grown by eps, in finest-grid cells: rows i0, i1, j0, j1."""
        lay = self.layer
        mx, my = self.eps * lay._fsx, self.eps * lay._fsy
        box = np.empty((4, len(self.seg)), np.int32)
        for lo in range(0, len(self.seg), _CHUNK):
            v = self.seg[lo : lo + _CHUNK]
            a, b = self.xy.take(v), self.xy.take(v + 1)
            u = (a.real - lay._gx0) * lay._fsx, (b.real - lay._gx0) * lay._fsx
            w = (a.imag - lay._gy0) * lay._fsy, (b.imag - lay._gy0) * lay._fsy
            box[0, lo : lo + _CHUNK] = _floor_in(np.minimum(*u) - mx, lay._fnx)
            box[1, lo : lo + _CHUNK] = _floor_in(np.maximum(*u) + mx, lay._fnx)
            box[2, lo : lo + _CHUNK] = _floor_in(np.minimum(*w) - my, lay._fny)
            box[3, lo : lo + _CHUNK] = _floor_in(np.maximum(*w) + my, lay._fny)
        return box

    # --- the top grid --------------------------------------------------------------------

    def _top(self) -> _Level:
        """Top cells: their edges, and every polygon that has edges in them or covers them."""
        nx, ny, npoly = self.nx, self.ny, self.npoly
        ntop = nx * ny
        keys = [
            self._top_keys(np.arange(lo, min(lo + _CHUNK, len(self.seg))))
            for lo in range(0, len(self.seg), _CHUNK)
        ]
        key = np.sort(np.concatenate(keys))
        del keys
        key = key[np.r_[True, key[1:] != key[:-1]]]
        ent_node = key >> 32
        ent_seg = key & 0x3FFFFFFF
        ent_side = ((key >> 30) & 3).astype(np.uint8)
        del key
        # records: (cell, polygon) of every edge's polygons (the first ones come sorted)
        k1 = ent_node * npoly + self.p1.take(ent_seg)
        p2 = self.p2.take(ent_seg)
        tw = np.flatnonzero(p2 >= 0)
        k2 = ent_node[tw] * npoly + p2[tw]
        del p2
        rkey = np.sort(np.concatenate([k1[np.r_[True, k1[1:] != k1[:-1]]], k2]))
        rkey = rkey[np.r_[True, rkey[1:] != rkey[:-1]]]
        r_node, r_poly = np.divmod(rkey, npoly)
        # which polygons cover which centres: one ray along each row of centres; the centres
        # between a polygon's first and second crossing of a row, third and fourth, ... are in
        # it.  Per cell: how many polygons cover its centre, and the sum of their numbers (the
        # polygon, when one does), as running sums over the rows' runs of centres.
        cross, amb_key = self._row_crossings()
        r_amb = _member(amb_key, r_poly * ntop + r_node)
        del amb_key
        g, kk = np.divmod(cross, nx + 1)
        del cross
        rank = np.arange(len(g)) - np.maximum.accumulate(
            np.where(np.r_[True, g[1:] != g[:-1]], np.arange(len(g)), 0)
        )
        at = np.flatnonzero(rank % 2 == 0)  # a polygon crosses a row an even number of times
        fp, fj = np.divmod(g[at], ny)
        start, end = fj * nx + kk[at], fj * nx + kk[at + 1]
        del g, kk, rank, at, fj
        cover = np.cumsum(
            np.bincount(start, minlength=ntop + 1) - np.bincount(end, minlength=ntop + 1)
        )[:ntop]
        psum = np.cumsum(
            np.bincount(start, fp, minlength=ntop + 1) - np.bincount(end, fp, minlength=ntop + 1)
        )[:ntop]  # whole numbers below 2**53: exact
        single = cover == 1
        # centres several polygons cover (overlaps): those polygons one by one
        multi = cover >= 2
        if multi.any():
            pref = np.r_[0, np.cumsum(multi)]
            hit = np.flatnonzero(pref.take(end) > pref.take(start))
            mc = _ranges(start[hit], end[hit] - start[hit])
            mp = np.repeat(fp[hit], end[hit] - start[hit])
            on = multi.take(mc)
            mkeys = np.sort(mc[on] * npoly + mp[on])
            del pref, hit, mc, mp, on
        else:
            mkeys = np.zeros(0, np.int64)
        del start, end, fp, cover
        r_in = single.take(r_node) & (psum.take(r_node) == r_poly)
        r_in |= _member(mkeys, rkey)
        # a polygon covering a centre with no edges in the cell covers the whole cell
        busy = np.zeros(ntop, bool)
        busy[r_node] = True
        bs = np.flatnonzero(busy & single)
        fk = bs * npoly + psum.take(bs).astype(np.int64)
        mk = np.concatenate([fk[~_member(rkey, fk)], mkeys[~_member(rkey, mkeys)]])
        del bs, fk, mkeys
        # cells with no edges that one polygon covers answer with it, no record needed
        pre = np.where(single & ~busy, psum, _NONE).astype(np.int32)
        del busy, single, psum, multi
        lv = _Level()
        lv.n, lv.ci, lv.cj, lv.nx, lv.pre = ntop, None, None, nx, pre
        if len(mk):  # polygons covering a cell wholly, merged in
            rkey = np.concatenate([rkey, mk])
            order = np.argsort(rkey)
            rkey = rkey.take(order)
            r_node, r_poly = np.divmod(rkey, npoly)
            r_in = np.concatenate([r_in, np.ones(len(mk), bool)]).take(order)
            r_amb = np.concatenate([r_amb, np.zeros(len(mk), bool)]).take(order)
        lv.r_node, lv.r_poly, lv.r_in, lv.r_amb = r_node, r_poly, r_in, r_amb
        lv.ent_node, lv.ent_seg, lv.ent_side = ent_node, ent_seg, ent_side
        run = np.r_[True, k1[1:] != k1[:-1]]
        lv.ent_r1 = np.searchsorted(rkey, k1[run]).take(np.cumsum(run) - 1)
        del run
        lv.ent_r2 = np.full(len(ent_node), -1, np.int64)
        lv.ent_r2[tw] = np.searchsorted(rkey, k2)
        lv.r_edges = np.zeros(len(rkey), bool)
        lv.r_edges[lv.ent_r1] = True
        lv.r_edges[lv.ent_r2[tw]] = True
        return lv

    def _top_keys(self, idx: I64) -> I64:
        """cell << 32 | side << 30 | edge for every (top cell, edge) that may touch: the cells
        of the edge's box grown by eps, in pieces no longer than a top cell for long edges (a
        box over four cells is checked against the edge's line).  side: bit 1 set when the cell's
        centre lies left of the edge (orient2d > 0), bit 0 when that is not certain."""
        d = self.depth
        lay = self.layer
        v = self.seg.take(idx)
        a, b = self.xy.take(v), self.xy.take(v + 1)
        del v
        i0, i1 = self.box[0].take(idx) >> d, self.box[1].take(idx) >> d
        j0, j1 = self.box[2].take(idx) >> d, self.box[3].take(idx) >> d
        di, dj = i1 - i0 + 1, j1 - j0 + 1
        one = np.flatnonzero((di == 1) & (dj == 1))
        cells = [j0[one].astype(np.int64) * self.nx + i0[one]]
        which = [one]  # the edge of each cell, as a position in idx
        few = np.flatnonzero(((di > 1) | (dj > 1)) & (di <= 2) & (dj <= 2))  # a short edge
        if len(few):
            fi0, fj0 = i0[few].astype(np.int64), j0[few].astype(np.int64)
            wide, tall = di[few] == 2, dj[few] == 2
            both = np.flatnonzero(wide & tall)
            fa, fb = a[few[both]], b[few[both]]
            for ox, oy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                sel = (wide if ox else np.ones(len(few), bool)) & (tall if oy else True)
                if len(both):
                    sel[both] = self._touches(fa, fb, fi0[both] + ox, fj0[both] + oy, 0)
                cells.append((fj0[sel] + oy) * self.nx + fi0[sel] + ox)
                which.append(few[sel])
        many = np.flatnonzero((di > 2) | (dj > 2))  # a long edge: in pieces
        if len(many):
            ma, mb = a[many], b[many]
            ua, ub = (ma.real - lay._gx0) * lay._fsx, (mb.real - lay._gx0) * lay._fsx
            va, vb = (ma.imag - lay._gy0) * lay._fsy, (mb.imag - lay._gy0) * lay._fsy
            span = np.maximum(np.abs(ub - ua), np.abs(vb - va)) / (1 << d)
            n = np.maximum(1, np.ceil(span)).astype(np.int64)
            s = np.repeat(np.arange(len(many)), n)
            t = _ramp(n)
            t0, t1 = t / n[s], (t + 1) / n[s]
            pu0, pu1 = ua[s] + (ub - ua)[s] * t0, ua[s] + (ub - ua)[s] * t1
            pv0, pv1 = va[s] + (vb - va)[s] * t0, va[s] + (vb - va)[s] * t1
            mx, my = self.eps * lay._fsx, self.eps * lay._fsy
            i0 = _floor_in(np.minimum(pu0, pu1) - mx, lay._fnx) >> d
            i1 = _floor_in(np.maximum(pu0, pu1) + mx, lay._fnx) >> d
            j0 = _floor_in(np.minimum(pv0, pv1) - my, lay._fny) >> d
            j1 = _floor_in(np.maximum(pv0, pv1) + my, lay._fny) >> d
            di, dj = i1 - i0 + 1, j1 - j0 + 1
            cnt = di * dj
            p = np.repeat(np.arange(len(s)), cnt)
            r = _ramp(cnt)
            ci = i0[p] + r % di[p]
            cj = j0[p] + r // di[p]
            keep = np.ones(len(p), bool)
            wide4 = np.flatnonzero((di[p] > 1) & (dj[p] > 1))
            if len(wide4):
                ee = s[p[wide4]]
                keep[wide4] = self._touches(ma[ee], mb[ee], ci[wide4], cj[wide4], 0)
            cells.append(cj[keep] * self.nx + ci[keep])
            which.append(many[s[p[keep]]])
        cell, w = np.concatenate(cells), np.concatenate(which)
        del cells, which
        cj, ci = np.divmod(cell, self.nx)
        a, b = a.take(w), b.take(w)
        det, unsure = _orient(
            a.real,
            a.imag,
            b.real,
            b.imag,
            lay._gx0 + (ci + 0.5) * lay._cw[0],
            lay._gy0 + (cj + 0.5) * lay._ch[0],
        )
        side = (det > 0).astype(np.int64) << 31 | unsure.astype(np.int64) << 30
        return (cell << 32) | side | idx.take(w)

    def _touches(
        self, a: NDArray[np.complex128], b: NDArray[np.complex128], ci: I64, cj: I64, k: int
    ) -> Bool:
        """Whether the line through a and b may touch the grown box of cell (ci, cj) of level k
        (a conservative test: only a clear separation says no)."""
        lay = self.layer
        hx, hy = lay._cw[k] / 2 + self.eps, lay._ch[k] / 2 + self.eps
        cx = lay._gx0 + (ci + 0.5) * lay._cw[k]
        cy = lay._gy0 + (cj + 0.5) * lay._ch[k]
        dx, dy = (b - a).real, (b - a).imag
        p, q = dx * (cy - a.imag), dy * (cx - a.real)
        rhs = np.abs(dx) * hy + np.abs(dy) * hx
        near: Bool = np.abs(p - q) <= rhs + 1e-9 * (rhs + np.abs(p) + np.abs(q))
        return near

    def _row_crossings(self) -> tuple[I64, I64]:
        """Sorted keys (polygon * rows + row) * (columns + 1) + k of every crossing of a
        polygon's edge with the centre line of a row of top cells, k being the first cell whose
        centre lies right of it (half-open: a vertex on the line counts as above it); and sorted
        keys polygon * cells + cell of the centres an edge passes within rounding of."""
        lay = self.layer
        nx, ny = self.nx, self.ny
        cw, ch = float(lay._cw[0]), float(lay._ch[0])
        keys, ambs = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for lo in range(0, len(self.seg), _CHUNK):
            idx = np.arange(lo, min(lo + _CHUNK, len(self.seg)))
            v = self.seg[idx]
            a, b = self.xy.take(v), self.xy.take(v + 1)
            # rows whose centre line y = gy0 + (j + 0.5) ch may lie in [min y, max y): a range
            # wider by a hair than rounding could shift it, then the exact test
            t0 = (np.minimum(a.imag, b.imag) - lay._gy0) / ch - 0.5
            t1 = (np.maximum(a.imag, b.imag) - lay._gy0) / ch - 0.5
            jlo = np.ceil(t0 - 1e-7).astype(np.int64)
            cnt = np.maximum(np.floor(t1 + 1e-7).astype(np.int64) - jlo + 1, 0)
            some = np.flatnonzero(cnt)
            cnt = cnt[some]
            sel = np.repeat(some, cnt)
            idx, a, b = idx.take(sel), a.take(sel), b.take(sel)
            j = np.repeat(jlo[some], cnt) + _ramp(cnt)
            yc = lay._gy0 + (j + 0.5) * ch
            on = np.flatnonzero((a.imag > yc) != (b.imag > yc))
            a, b, j, yc, idx = a[on], b[on], j[on], yc[on], idx[on]
            ax, ay, bx, by = a.real, a.imag, b.real, b.imag
            xc = ax + (yc - ay) * (bx - ax) / (by - ay)
            m = _floor_in((xc - lay._gx0) / cw, nx)
            cx = lay._gx0 + (m + 0.5) * cw
            k = m + (xc > cx)
            near = np.flatnonzero(np.abs(xc - cx) <= 1e-12 * (np.abs(bx - ax) + np.abs(xc)))
            amb = np.zeros(len(m), bool)
            if len(near):
                det, amb_n = _orient(ax[near], ay[near], bx[near], by[near], cx[near], yc[near])
                left = np.where(by[near] > ay[near], det < 0, det > 0)  # crossing left of centre
                k[near] = m[near] + ~left
                amb[near] = amb_n
            for pp in (self.p1.take(idx), self.p2.take(idx)):
                ok = pp >= 0
                keys.append((pp[ok].astype(np.int64) * ny + j[ok]) * (nx + 1) + k[ok])
                ok &= amb
                ambs.append(pp[ok].astype(np.int64) * (nx * ny) + j[ok] * nx + m[ok])
        return np.sort(np.concatenate(keys)), np.sort(np.concatenate(ambs))

    # --- one level -----------------------------------------------------------------------

    def _classify(
        self, lv: _Level, k: int, offset: int, leaves: _Leaves
    ) -> tuple[NDArray[np.int32], _Level | None]:
        """The level's cell states, its leaves added to `leaves`, and the next level's cells."""
        state = lv.pre if lv.pre is not None else np.full(lv.n, _NONE, np.int32)
        if len(lv.r_node) == 0:
            return state, None
        first = np.flatnonzero(np.r_[True, lv.r_node[1:] != lv.r_node[:-1]])
        node = lv.r_node[first]
        n_rec = np.diff(np.r_[first, len(lv.r_node)])
        n_ent = np.bincount(lv.ent_node, minlength=lv.n).take(node)
        amb = np.logical_or.reduceat(lv.r_amb, first)
        whole = ~lv.r_edges[first]  # the smallest code covers the whole cell
        direct = whole & ~amb & (n_rec == 1) if self.layer._overlay else whole & ~amb
        split = ~direct & ~amb & (n_ent > LEAF_EDGES) & (k < self.depth)
        leaf = ~direct & ~split
        state[node[direct]] = lv.r_poly[first[direct]]
        lf = np.flatnonzero(leaf)
        state[node[lf]] = -2 - (leaves.count + np.arange(len(lf)))
        leaves.add(self, lv, k, node[lf], first[lf], n_rec[lf], amb[lf], n_ent[lf])
        sp = np.flatnonzero(split)
        if len(sp) == 0:
            return state, None
        # children are numbered after this level: offset is the next level's first index
        state[node[sp]] = _SPLIT - (offset + 4 * np.arange(len(sp)))
        return state, self._children(lv, k, node[sp], first[sp], n_rec[sp])

    def _centre_status(self, lv: _Level, k: int, nodes: I64, rec: I64) -> tuple[Bool, Bool]:
        """For records `rec` of cells `nodes` (sorted): does the polygon cover the cell's own
        centre, and is that uncertain.  At the top the reference point is the centre; below,
        it is the parent's centre, and the segment between the two lies in the cell."""
        r_in, r_amb = lv.r_in.take(rec), lv.r_amb.take(rec)
        if k == 0:
            return r_in, r_amb
        lay = self.layer
        lo = np.searchsorted(lv.ent_node, nodes, "left")
        cnt = np.searchsorted(lv.ent_node, nodes, "right") - lo
        e = _ranges(lo, cnt)
        if len(e) == 0:
            return r_in, r_amb
        en = lv.ent_node.take(e)
        ci, cj = lv.coords(en)
        qx = lay._gx0 + (ci + 0.5) * lay._cw[k]
        qy = lay._gy0 + (cj + 0.5) * lay._ch[k]
        rx = lay._gx0 + ((ci >> 1) + 0.5) * lay._cw[k - 1]
        ry = lay._gy0 + ((cj >> 1) + 0.5) * lay._ch[k - 1]
        hit, amb = _crossings(self.xy, self.seg.take(lv.ent_seg.take(e)), qx, qy, rx, ry)
        # flips and doubts by record (each edge bounds one or two polygons)
        r1, r2 = lv.ent_r1.take(e), lv.ent_r2.take(e)
        n = len(lv.r_node)
        flips = np.bincount(r1[hit], minlength=n) + np.bincount(r2[hit & (r2 >= 0)], minlength=n)
        doubt = np.bincount(r1[amb], minlength=n) + np.bincount(r2[amb & (r2 >= 0)], minlength=n)
        return r_in ^ (flips.take(rec) & 1).astype(bool), r_amb | (doubt.take(rec) > 0)

    def _children(self, lv: _Level, k: int, parents: I64, first: I64, n_rec: I64) -> _Level:
        """The four children of every split cell: their edges, and the parent's polygons that
        have edges in a child or cover the parent's centre (the children's reference point)."""
        nb = len(parents)
        sh = self.depth - k - 1
        # the parents' edges, child by child
        lo = np.searchsorted(lv.ent_node, parents, "left")
        cnt = np.searchsorted(lv.ent_node, parents, "right") - lo
        blk = np.repeat(np.arange(nb), cnt)
        src = _ranges(lo, cnt)
        es = lv.ent_seg.take(src)
        del src
        pci, pcj = lv.coords(parents)
        ci0, cj0 = (2 * pci).take(blk), (2 * pcj).take(blk)
        bi0, bi1 = self.box[0].take(es) >> sh, self.box[1].take(es) >> sh
        bj0, bj1 = self.box[2].take(es) >> sh, self.box[3].take(es) >> sh
        west, east = bi0 <= ci0, bi1 > ci0
        south, north = bj0 <= cj0, bj1 > cj0
        del bi0, bi1, bj0, bj1
        four = np.flatnonzero(west & east & south & north)
        v = self.seg.take(es[four])
        a, b = self.xy.take(v), self.xy.take(v + 1)
        chunks = []
        for c, (we, sn) in enumerate(((west, south), (east, south), (west, north), (east, north))):
            sel = we & sn
            if len(four):  # a box over all four children: the edge's line misses one or more
                sel[four] = self._touches(a, b, ci0[four] + (c & 1), cj0[four] + (c >> 1), k + 1)
            chunks.append(np.flatnonzero(sel))
        del west, east, south, north, ci0, cj0, four, a, b
        # in child order, then edge order, without sorting
        counts = np.zeros(4 * nb, np.int64)
        for c, s in enumerate(chunks):
            counts += np.bincount(4 * blk[s] + c, minlength=4 * nb)
        ptr = np.cumsum(counts) - counts
        total = int(counts.sum())
        ent_node = np.empty(total, np.int64)
        ent_seg = np.empty(total, np.int64)
        for c, s in enumerate(chunks):
            if len(s) == 0:
                continue
            bs = blk[s]
            run = np.maximum.accumulate(
                np.where(np.r_[True, bs[1:] != bs[:-1]], np.arange(len(bs)), 0)
            )
            pos = ptr.take(4 * bs + c) + np.arange(len(bs)) - run
            ent_node[pos] = 4 * bs + c
            ent_seg[pos] = es.take(s)
        del chunks, blk, es
        # records: each parent's polygons, for each of its children, in (child, polygon) order
        rec = _ranges(first, n_rec)
        cin, camb = self._centre_status(lv, k, parents, rec)
        m = len(rec)
        rstart = np.repeat(np.cumsum(n_rec) - n_rec, n_rec)  # a parent's first record
        within = np.arange(m) - rstart
        nrep = np.repeat(n_rec, n_rec)
        pos = (4 * rstart + within)[:, None] + np.arange(4) * nrep[:, None]
        r_node = np.empty(4 * m, np.int64)
        r_node[pos] = 4 * np.repeat(np.arange(nb), n_rec)[:, None] + np.arange(4)
        r_poly = np.empty(4 * m, np.int64)
        r_poly[pos] = lv.r_poly.take(rec)[:, None]
        r_in = np.empty(4 * m, bool)
        r_in[pos] = cin[:, None]
        r_amb = np.empty(4 * m, bool)
        r_amb[pos] = camb[:, None]
        del rec, cin, camb, rstart, within, nrep, pos
        rkey = r_node * self.npoly + r_poly
        k1 = ent_node * self.npoly + self.p1.take(ent_seg)
        p2 = self.p2.take(ent_seg)
        tw = np.flatnonzero(p2 >= 0)
        r1 = np.searchsorted(rkey, k1)
        r2 = np.searchsorted(rkey, ent_node[tw] * self.npoly + p2[tw])
        del k1, p2, rkey
        edges = np.zeros(4 * m, bool)
        edges[r1] = True
        edges[r2] = True
        # a polygon with no edges in a child and not covering its reference point is left out
        keep = edges | r_in | r_amb
        renum = np.cumsum(keep) - 1
        out = _Level()
        out.n, out.nx, out.pre = 4 * nb, 0, None
        out.ci = ((2 * pci)[:, None] + np.array([0, 1, 0, 1])).ravel()
        out.cj = ((2 * pcj)[:, None] + np.array([0, 0, 1, 1])).ravel()
        out.r_node, out.r_poly = r_node[keep], r_poly[keep]
        out.r_in, out.r_amb, out.r_edges = r_in[keep], r_amb[keep], edges[keep]
        out.ent_node, out.ent_seg = ent_node, ent_seg
        out.ent_r1 = renum.take(r1)
        out.ent_r2 = np.full(total, -1, np.int64)
        out.ent_r2[tw] = renum.take(r2)
        return out


def _twins(xy: F64, first: I64, vpoly: NDArray[np.int32]) -> tuple[Bool, NDArray[np.int32]]:
    """Edges (from vertex `first` to the next) of two polygons that join the same two points:
    which edges to keep (one of each such pair), and the other polygon of a kept edge (-1).

    Edges are sorted by a hash of their two ends that does not depend on their order (its top
    bits, the edge's number below them); neighbours in that order with equal hashes are
    compared by their coordinates."""
    n = len(first)
    u = xy.view(np.uint64)  # the coordinates' bits
    f = u[:, 0] * np.uint64(0x9E3779B97F4A7C15)
    f ^= u[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F)
    f ^= f >> np.uint64(29)
    f *= np.uint64(0x94D049BB133111EB)
    g = f[:-1] + f[1:]  # an edge from every vertex (wrapping sums; the ring ends are dropped)
    del f
    h = g.take(first)
    del g
    h ^= h >> np.uint64(31)
    bits = max(1, int(n).bit_length())
    low = np.uint64((1 << bits) - 1)
    h &= ~low
    h |= np.arange(n, dtype=np.uint64)
    h.sort()
    m = np.flatnonzero((h[1:] & ~low) == (h[:-1] & ~low))
    i = (h[m] & low).astype(np.int64)
    j = (h[m + 1] & low).astype(np.int64)
    del h
    ok = np.r_[True, m[1:] != m[:-1] + 1][: len(m)]  # three alike: pair the first two only
    i, j = np.minimum(i[ok], j[ok]), np.maximum(i[ok], j[ok])
    del m, ok
    pair = np.sort((i << 32) | j)  # by the first edge: reading its ends in order
    i, j = pair >> 32, pair & 0xFFFFFFFF
    del pair
    z = xy.view(np.complex128).ravel()
    fi, fj = first.take(i), first.take(j)
    ai, bi, aj, bj = z.take(fi), z.take(fi + 1), z.take(fj), z.take(fj + 1)
    ok = ((ai == aj) & (bi == bj)) | ((ai == bj) & (bi == aj))
    del ai, bi, aj, bj
    pi, pj = vpoly.take(fi), vpoly.take(fj)
    ok &= pi != pj
    keep = np.ones(n, bool)
    keep[j[ok]] = False
    twin = np.full(n, -1, np.int32)
    twin[i[ok]] = pj[ok]
    return keep, twin


class _Leaves:
    """Leaf cells collected level by level, then stored on the layer as flat arrays."""

    def __init__(self) -> None:
        self.count = 0
        self.n_cand: list[I64] = []
        self.cand: list[I64] = []
        self.ref: list[NDArray[np.uint64]] = []
        self.geos: list[Bool] = []
        self.n_ent: list[I64] = []
        self.vertex: list[I64] = []
        self.info: list[NDArray[np.uint8]] = []
        self.slot2: list[NDArray[np.uint8]] = []

    def add(
        self,
        b: _Builder,
        lv: _Level,
        k: int,
        nodes: I64,
        first: I64,
        n_rec: I64,
        amb: Bool,
        ne: I64,
    ) -> None:
        """Leaves `nodes` of level k, with records first .. first + n_rec - 1 and ne edges each."""
        if len(nodes) == 0:
            return
        lay = b.layer
        rec = _ranges(first, n_rec)
        slot = _ramp(n_rec)
        starts = np.cumsum(n_rec) - n_rec
        bit = np.where(lv.r_in.take(rec) & (slot < MAX_SLOTS), _BIT.take(np.minimum(slot, 255)), 0)
        ref = np.add.reduceat(bit.astype(np.uint64), starts)  # distinct bits: their sum
        geos = amb | (n_rec > MAX_SLOTS)
        is_leaf = np.zeros(lv.n, bool)
        is_leaf[nodes] = True
        e = np.flatnonzero(is_leaf.take(lv.ent_node))  # entries come sorted by cell
        del is_leaf
        base = np.repeat(first, ne)
        s1 = lv.ent_r1.take(e) - base
        s2 = lv.ent_r2.take(e)
        none = s2 < 0
        s2 -= base
        s2[none] = 255
        del base, none
        vertex = b.seg.take(lv.ent_seg.take(e))
        # which side of each edge's line the reference point lies on (certain, or GEOS answers)
        if lv.ent_side is not None:  # the top cells' centres: found while hashing the edges
            side = lv.ent_side.take(e)
            left, unsure = side >= 2, (side & 1).astype(bool)
        else:  # the parent's centre
            ci, cj = lv.coords(nodes)
            rx = np.repeat(lay._gx0 + ((ci >> 1) + 0.5) * lay._cw[k - 1], ne)
            ry = np.repeat(lay._gy0 + ((cj >> 1) + 0.5) * lay._ch[k - 1], ne)
            a, bb = b.xy.take(vertex), b.xy.take(vertex + 1)
            det, unsure = _orient(a.real, a.imag, bb.real, bb.imag, rx, ry)
            left = det > 0
        owner = np.repeat(np.arange(len(nodes)), ne)
        geos |= np.bincount(owner[unsure], minlength=len(nodes)) > 0
        self.n_cand.append(n_rec)
        self.cand.append(lv.r_poly.take(rec))
        self.ref.append(ref)
        self.geos.append(geos)
        self.n_ent.append(ne)
        self.vertex.append(vertex)
        info = np.minimum(s1, 127).astype(np.uint8)
        info |= left.view(np.uint8) << 7
        self.info.append(info)
        self.slot2.append(np.minimum(s2, 255).astype(np.uint8))
        self.count += len(nodes)

    def store(self, lay: _Layer) -> None:
        def cat(parts: list[Any], dtype: type) -> Any:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        n_cand, n_ent = cat(self.n_cand, np.int64), cat(self.n_ent, np.int64)
        if n_cand.sum() >= 2**31 or n_ent.sum() >= 2**31:
            raise ValueError("layer too large for the locator's 32-bit index")
        lay._cand_ptr = np.r_[0, np.cumsum(n_cand)].astype(np.int32)
        lay._cand = cat(self.cand, np.int32)
        lay._ref = cat(self.ref, np.uint64)
        lay._geos = cat(self.geos, np.bool_)
        lay._ent_ptr = np.r_[0, np.cumsum(n_ent)].astype(np.int32)
        lay._ent = cat(self.vertex, np.int64)
        lay._ent |= cat(self.info, np.int64) << 32
        lay._ent |= cat(self.slot2, np.int64) << 40


def _release_scratch() -> None:
    """Give the build's freed scratch memory back to the system.  glibc keeps freed blocks
    below its mmap threshold (which grows to 32 MiB as large blocks are freed) in the heap, and
    most scratch arrays are that size: at 100,000 grids the process would keep ~0.7 GiB it no
    longer uses.  Elsewhere (no malloc_trim) nothing is done."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _ramp(n: I64) -> I64:
    """0 .. n[i] - 1 for every i, concatenated."""
    n = np.asarray(n, np.int64)
    return np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)


def _ranges(start: I64, n: I64) -> I64:
    """start[i] .. start[i] + n[i] - 1 for every i, concatenated."""
    n = np.asarray(n, np.int64)
    return np.repeat(np.asarray(start, np.int64), n) + _ramp(n)


def _member(sorted_keys: I64, keys: I64) -> Bool:
    """Whether each key is among the sorted keys."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    found: Bool = sorted_keys.take(at) == keys
    return found


def _floor_in(u: F64, n: int) -> I64:
    """floor(u) clipped to the cells 0 .. n - 1 (clipped first, so huge values cannot wrap)."""
    return np.floor(np.clip(u, 0, n - 1)).astype(np.int64)


def _check(codes: Sequence[str], geoms: Sequence[BaseGeometry]) -> None:
    for code, geom in zip(codes, geoms, strict=True):
        if not isinstance(code, str):
            raise ValueError(f"code {code!r} is not a string")
        if not isinstance(geom, Polygon | MultiPolygon):
            raise ValueError(
                f"{code}: expected a Polygon or MultiPolygon, got {type(geom).__name__}"
            )
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    for bad in np.flatnonzero(shapely.is_empty(arr) | ~shapely.is_valid(arr)):
        code, geom = codes[int(bad)], geoms[int(bad)]
        if geom.is_empty:
            raise ValueError(f"{code}: empty geometry")
        raise ValueError(f"{code}: invalid geometry ({shapely.is_valid_reason(geom)})")


def _xy(x: ArrayLike, y: ArrayLike) -> tuple[F64, F64]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x has {xa.size} values but y has {ya.size}")
    return xa, ya
