"""Suggest a rebalance: redraw one parent's level-3 grids so that their households fall in a band.

Blocks are triangles: each current grid's constrained Delaunay triangulation, refined with the
address points (plus a sparse lattice of empty seeds, so that empty land is cut finely too) as
extra vertices inside. Every block lies in one current grid, so any grouping of whole blocks tiles
the parent, and a grid that keeps exactly its own blocks keeps its exact geometry. In the spirit
of ReCom (DeFord, Duchin, Solomon 2019), a step takes a grid outside the band, alone or with one
neighbour, pools their blocks, draws random spanning trees of the pooled block graph and cuts
one tree edge: both sides are connected. The cut kept has the least deviation from the band and,
among near ties, the most compact halves (Polsby-Popper). Merging two grids is the one-part
case. A step is taken only when it lowers the total deviation, so the loop ends, and only grids
outside the band and the neighbours they trade with change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from grid_layers.crs import to_metric_transformer

Band = tuple[float, float]
Ints = NDArray[np.intp]
Floats = NDArray[np.float64]

_POLYGON = 3
_LATTICE_PER_GRID = 30  # empty seeds per grid's worth of area: the size of blocks without people
_SEED_MARGIN_M = 0.5  # seeds nearer a triangle's edge would put a vertex on it: left out
_MAX_CUTS = 64  # near-best cuts per tree whose compactness is measured


@dataclass(frozen=True)
class Rebalanced:
    """A parent's level-3 grids after a rebalance, and what changed."""

    grids: dict[str, BaseGeometry]  # code -> lon/lat polygon, every level-3 grid of the parent
    households: dict[str, float]  # code -> weight of the units inside
    kept: tuple[str, ...]  # unchanged, geometry bit-identical
    reshaped: tuple[str, ...]  # same code, new boundary
    added: tuple[str, ...]  # new codes
    removed: tuple[str, ...]  # codes merged away
    unplaced: float  # weight of units inside no grid (ignored)


@dataclass(frozen=True)
class Balance:
    """How a set of grids sits in a band of households."""

    grids: int
    in_band: int
    lowest: float
    highest: float


def balance(households: Collection[float], band: Band) -> Balance:
    """Grids in the band, and the smallest and largest household totals."""
    lo, hi = band
    values = list(households)
    inside = sum(1 for v in values if lo <= v <= hi)
    return Balance(len(values), inside, min(values, default=0.0), max(values, default=0.0))


def _deviation(weight: float, band: Band) -> float:
    return max(0.0, band[0] - weight, weight - band[1])


class _Blocks:
    """The tessellation: block geometries, home grid, weight, metric area and perimeter, and
    the edge-sharing graph with shared lengths in metres."""

    def __init__(self, grids: list[BaseGeometry], xy: Floats, weights: Floats) -> None:
        self.grids = np.array(grids, dtype=object)
        lon = float(np.mean(shapely.bounds(self.grids)[:, [0, 2]]))
        self.to_metric = to_metric_transformer(lon)
        self.geoms, self.home = self._triangles(self._seeds(xy))
        metric = self._metric(self.geoms)
        self.area, self.perimeter = shapely.area(metric), shapely.length(metric)
        self.edges, self.shared = _adjacency(self.geoms, metric)
        self.weight, self.unplaced = self._weigh(xy, weights)

    def _metric(self, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        def forward(p: Floats) -> Floats:
            return np.column_stack(self.to_metric.transform(p[:, 0], p[:, 1]))

        return np.asarray(shapely.transform(geoms, forward))

    def _seeds(self, xy: Floats) -> Floats:
        """Distinct unit locations (to about a metre), plus lattice points where none is near."""
        points = np.unique(np.round(xy, 5), axis=0) if len(xy) else np.empty((0, 2))
        x0, y0, x1, y1 = shapely.total_bounds(self.grids)
        area = float(shapely.area(self._metric(self.grids)).sum())
        step_m = math.sqrt(area / (len(self.grids) * _LATTICE_PER_GRID))
        dy = step_m / 110_574.0
        dx = step_m / (111_320.0 * math.cos(math.radians((y0 + y1) / 2)))
        gx, gy = np.meshgrid(np.arange(x0 + dx / 2, x1, dx), np.arange(y0 + dy / 2, y1, dy))
        lattice = shapely.points(np.column_stack([gx.ravel(), gy.ravel()]))
        if len(points):
            near = shapely.STRtree(shapely.points(points)).query(
                lattice, predicate="dwithin", distance=min(dx, dy) / 2)[0]
            lattice = np.delete(lattice, np.unique(near))
        return np.vstack([points, shapely.get_coordinates(lattice)])

    def _triangles(self, seeds: Floats) -> tuple[NDArray[np.object_], Ints]:
        """Each grid's constrained Delaunay triangles (its own vertices only), each refined by
        the Delaunay triangles of its corners and the seeds well inside it. No block vertex
        is added on a grid's boundary: a new boundary meets an old one only at an old vertex,
        so overlays with untouched grids and parents stay exact (no near-collinear T-joins)."""
        parts, owner = shapely.get_parts(self.grids, return_index=True)
        tris, inner = shapely.get_parts(shapely.constrained_delaunay_triangles(parts),
                                        return_index=True)
        home = owner[inner]
        points = shapely.points(seeds)
        s, t = shapely.STRtree(tris).query(points, predicate="within")
        margin = _SEED_MARGIN_M / 110_574.0
        clear = shapely.distance(points[s], shapely.boundary(tris[t])) > margin
        s, t = s[clear], t[clear]
        s, first = np.unique(s, return_index=True)  # a seed in one triangle only
        t = t[first]
        if not len(t):
            return tris, home
        split = np.unique(t)
        corners = shapely.get_coordinates(tris[split]).reshape(len(split), 4, 2)[:, :3]
        members = {int(k): [c] for k, c in zip(split, corners, strict=True)}
        for seed, tri in zip(s.tolist(), t.tolist(), strict=True):
            members[tri].append(seeds[seed][None, :])
        clouds = [shapely.multipoints(np.vstack(members[int(k)])) for k in split]
        fine, which = shapely.get_parts(shapely.delaunay_triangles(clouds), return_index=True)
        keep = np.ones(len(tris), dtype=bool)
        keep[split] = False
        geoms = np.concatenate([tris[keep], fine])
        return geoms, np.concatenate([home[keep], home[split][which]])

    def _weigh(self, xy: Floats, weights: Floats) -> tuple[Floats, float]:
        """Each unit's weight to the first block holding it."""
        if not len(xy):
            return np.zeros(len(self.geoms)), 0.0
        point, block = shapely.STRtree(self.geoms).query(
            shapely.points(xy), predicate="intersects")
        first = np.unique(point, return_index=True)[1]
        point, block = point[first], block[first]
        weight = np.bincount(block, weights=weights[point], minlength=len(self.geoms))
        return weight.astype(np.float64), float(weights.sum() - weights[point].sum())


def _adjacency(triangles: NDArray[np.object_], metric: NDArray[np.object_]) -> tuple[Ints, Floats]:
    """Pairs of triangles sharing an edge (not only a corner), with its length in metres;
    corners are matched to 0.1 mm so that last-bit differences across grids do not matter."""
    corners = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3]
    _, vertex = np.unique(np.round(corners.reshape(-1, 2), 9), axis=0, return_inverse=True)
    vertex = vertex.reshape(-1, 3)
    sides = np.sort(np.stack([vertex[:, [0, 1]], vertex[:, [1, 2]], vertex[:, [2, 0]]], 1), -1)
    owner = np.repeat(np.arange(len(triangles)), 3)
    _, side, count = np.unique(sides.reshape(-1, 2), axis=0, return_inverse=True,
                               return_counts=True)
    side = side.reshape(-1)
    twice = np.flatnonzero(count[side] == 2)
    both = twice[np.argsort(side[twice], kind="stable")].reshape(-1, 2)  # the two copies
    pairs = np.sort(owner[both], axis=1)
    ends = shapely.get_coordinates(metric).reshape(-1, 4, 2)
    k = both[:, 0] % 3
    a, b = ends[owner[both[:, 0]], k], ends[owner[both[:, 0]], k + 1]
    return pairs.astype(np.intp), np.hypot(*(a - b).T)


@dataclass(frozen=True)
class _Option:
    deviation: float
    compactness: float  # the least Polsby-Popper score of the parts
    parts: tuple[Ints, ...]  # block indices of each new part


class _Rebalancer:
    """Districts as labels on blocks, improved one ReCom step at a time."""

    def __init__(self, blocks: _Blocks, band: Band, rng: np.random.Generator, trees: int):
        self.b, self.band, self.rng, self.trees = blocks, band, rng, trees
        self.label = blocks.home.copy()
        self.slack = 0.01 * max(band[1] - band[0], 1.0)  # near-ties go to the compact cut

    def weight(self, district: int) -> float:
        return float(self.b.weight[self.label == district].sum())

    def neighbours(self, district: int) -> list[int]:
        a, b = self.label[self.b.edges[:, 0]], self.label[self.b.edges[:, 1]]
        found = np.concatenate([b[(a == district) & (b != district)],
                                a[(b == district) & (a != district)]])
        return sorted(set(found.tolist()))

    def run(self, max_steps: int) -> None:
        stuck: set[int] = set()
        for _ in range(max_steps):
            bad = [(_deviation(self.weight(d), self.band), -d) for d in np.unique(self.label)
                   if d not in stuck]
            bad = [x for x in bad if x[0] > 0]
            if not bad:
                return
            district = -max(bad)[1]
            if self.step(district):
                stuck.clear()
            else:
                stuck.add(district)

    def step(self, district: int) -> bool:
        """The best improving move involving the district: split, re-split with a neighbour, or
        merge into one; prefer keeping the number of grids on equal deviation."""
        mine = self.weight(district)
        moves: list[tuple[list[int], int]] = [([district], 2)] if mine > self.band[1] else []
        for other in self.neighbours(district):
            moves.append(([district, other], 2))
            if min(mine, self.weight(other)) < self.band[0]:
                moves.append(([district, other], 1))
        best: tuple[float, int, float] | None = None
        chosen: tuple[list[int], _Option] | None = None
        for districts, parts in moves:
            before = sum(_deviation(self.weight(d), self.band) for d in districts)
            option = self.option(districts, parts)
            if option is None or option.deviation >= before - 1e-9:
                continue
            key = (round(option.deviation / self.slack), int(parts != len(districts)),
                   -option.compactness)
            if best is None or key < best:
                best, chosen = key, (districts, option)
        if chosen is None:
            return False
        districts, option = chosen
        ids = [*districts, int(self.label.max()) + 1][: len(option.parts)]
        for d, part in zip(ids, option.parts, strict=True):
            self.label[part] = d
        return True

    def option(self, districts: list[int], parts: int) -> _Option | None:
        nodes = np.flatnonzero(np.isin(self.label, districts))
        if parts == 1:
            return _Option(_deviation(float(self.b.weight[nodes].sum()), self.band),
                           self._polsby(nodes), (nodes,))
        cuts = [c for _ in range(self.trees) for c in self._tree_cuts(nodes)]
        if not cuts:
            return None
        least = min(c.deviation for c in cuts)
        return max((c for c in cuts if c.deviation <= least + self.slack),
                   key=lambda c: (c.compactness, -c.deviation))

    def _polsby(self, nodes: Ints) -> float:
        inside = np.isin(self.b.edges, nodes).all(axis=1)
        area = float(self.b.area[nodes].sum())
        perimeter = float(self.b.perimeter[nodes].sum() - 2 * self.b.shared[inside].sum())
        return 4 * math.pi * area / max(perimeter, 1e-9) ** 2

    def _tree_cuts(self, nodes: Ints) -> list[_Option]:
        """Cuts of one random spanning tree of the nodes, the near-best by deviation."""
        local = np.full(len(self.b.geoms), -1)
        local[nodes] = np.arange(len(nodes))
        ea, eb = local[self.b.edges[:, 0]], local[self.b.edges[:, 1]]
        inside = (ea >= 0) & (eb >= 0)
        ea, eb, length = ea[inside], eb[inside], self.b.shared[inside]
        tree = _random_tree(len(nodes), ea, eb, self.rng)
        if tree is None:
            return []
        pos, end = tree
        order = np.argsort(pos)
        w = np.r_[0.0, np.cumsum(self.b.weight[nodes][order])]
        a = np.r_[0.0, np.cumsum(self.b.area[nodes][order])]
        p = np.r_[0.0, np.cumsum(self.b.perimeter[nodes][order])]
        total = w[-1]
        starts, ends = pos[1:], end[1:]  # every node but the root heads a subtree
        sub = w[ends] - w[starts]
        dev = np.array([_deviation(s, self.band) + _deviation(total - s, self.band)
                        for s in sub.tolist()])
        pick = np.argsort(dev, kind="stable")[:_MAX_CUTS]
        pick = pick[dev[pick] <= dev[pick[0]] + self.slack] if len(pick) else pick
        s0, s1 = starts[pick][:, None], ends[pick][:, None]
        in_a = (pos[ea][None, :] >= s0) & (pos[ea][None, :] < s1)
        in_b = (pos[eb][None, :] >= s0) & (pos[eb][None, :] < s1)
        inner_s = (in_a & in_b) @ length
        inner_c = (~in_a & ~in_b) @ length
        area_s, perim_s = a[s1[:, 0]] - a[s0[:, 0]], p[s1[:, 0]] - p[s0[:, 0]] - 2 * inner_s
        area_c, perim_c = a[-1] - area_s, p[-1] - (p[s1[:, 0]] - p[s0[:, 0]]) - 2 * inner_c
        pp = np.minimum(4 * math.pi * area_s / np.maximum(perim_s, 1e-9) ** 2,
                        4 * math.pi * area_c / np.maximum(perim_c, 1e-9) ** 2)
        out = []
        for k, cut in enumerate(pick.tolist()):
            mask = (pos >= starts[cut]) & (pos < ends[cut])
            out.append(_Option(float(dev[cut]), float(pp[k]), (nodes[mask], nodes[~mask])))
        return out


def _random_tree(n: int, ea: Ints, eb: Ints, rng: np.random.Generator) -> tuple[Ints, Ints] | None:
    """A random spanning tree (Kruskal on random weights) as depth-first positions and subtree
    ends: node v's subtree is the nodes with pos in [pos[v], end[v]). None if disconnected."""
    root = list(range(n))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    near: list[list[int]] = [[] for _ in range(n)]
    joined = 0
    for k in rng.permutation(len(ea)).tolist():
        x, y = find(int(ea[k])), find(int(eb[k]))
        if x != y:
            root[x] = y
            near[int(ea[k])].append(int(eb[k]))
            near[int(eb[k])].append(int(ea[k]))
            joined += 1
    if joined != n - 1:
        return None
    pos, end = np.zeros(n, np.intp), np.zeros(n, np.intp)
    seen, stack, clock = [False] * n, [(0, False)], 0
    while stack:
        v, done = stack.pop()
        if done:
            end[v] = clock
            continue
        seen[v], pos[v] = True, clock
        clock += 1
        stack.append((v, True))
        stack.extend((u, False) for u in near[v] if not seen[u])
    return pos, end


def _next_codes(parent_code: str, taken: Collection[str], count: int) -> list[str]:
    """New child codes after the highest `<parent>-N` in use, as wide as those in use."""
    pattern = re.compile(re.escape(parent_code) + r"-(\d+)$")
    used = [m[1] for c in taken if (m := pattern.match(c))]
    start = max((int(u) for u in used), default=0) + 1
    # as many digits as the codes in use ("T-A-3", "QD-05-04"), two for a parent without any
    width = max(max((len(u) for u in used), default=2), len(str(start + count - 1)))
    return [f"{parent_code}-{k:0{width}d}" for k in range(start, start + count)]


def _shape(blocks: _Blocks, nodes: Ints, grids: list[BaseGeometry]) -> BaseGeometry:
    """Whole current grids where all their blocks are in, unions of blocks elsewhere."""
    pieces = []
    for g in np.unique(blocks.home[nodes]).tolist():
        mine = nodes[blocks.home[nodes] == g]
        whole = len(mine) == int((blocks.home == g).sum())
        pieces.append(grids[g] if whole else shapely.union_all(blocks.geoms[mine]))
    return shapely.union_all(pieces) if len(pieces) > 1 else pieces[0]


def rebalance_parent(*, parent_code: str, grids: Mapping[str, BaseGeometry], xy: ArrayLike,
                     weights: ArrayLike, band: Band, seed: int = 0, trees: int = 8,
                     taken: Collection[str] = ()) -> Rebalanced:
    """Regroup a parent's level-3 grids (code -> lon/lat polygon) so that the weights of the
    units (lon/lat points) per grid fall in the band; `taken` codes are never given out."""
    codes = sorted(grids)
    shapes = [grids[c] for c in codes]
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    blocks = _Blocks(shapes, points, np.asarray(weights, dtype=np.float64).reshape(-1))
    work = _Rebalancer(blocks, band, np.random.default_rng(seed), trees)
    work.run(max_steps=20 * len(codes) + 20)

    districts = np.unique(work.label).tolist()
    members = {d: np.flatnonzero(work.label == d) for d in districts}
    overlap = sorted(((-float(blocks.area[n][blocks.home[n] == g].sum()), d, g)
                      for d, n in members.items() for g in np.unique(blocks.home[n]).tolist()))
    named: dict[int, str] = {}
    for _, d, g in overlap:  # each current code goes to the new grid holding most of it
        if d not in named and codes[g] not in named.values():
            named[d] = codes[g]
    fresh = iter(_next_codes(parent_code, {*codes, *taken},
                             sum(d not in named for d in districts)))
    out: dict[str, BaseGeometry] = {}
    households: dict[str, float] = {}
    kept: list[str] = []
    reshaped: list[str] = []
    added: list[str] = []
    for d in districts:
        code = named.get(d) or next(fresh)
        nodes = members[d]
        home = codes.index(code) if code in codes else -1
        same = home >= 0 and np.array_equal(nodes, np.flatnonzero(blocks.home == home))
        out[code] = grids[code] if same else _shape(blocks, nodes, shapes)
        households[code] = float(blocks.weight[nodes].sum())
        (kept if same else reshaped if home >= 0 else added).append(code)
    removed = [c for c in codes if c not in out]
    return Rebalanced(dict(sorted(out.items())), dict(sorted(households.items())),
                      tuple(sorted(kept)), tuple(sorted(reshaped)), tuple(sorted(added)),
                      tuple(removed), blocks.unplaced)
