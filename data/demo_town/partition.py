"""Cutting the town into 18 villages of 2–6 cells (64 in all) that tile it exactly.

Cells come from nested Voronoi diagrams of seeds placed by k-means on a population sample, so
cells are smaller where people live closer together (around the town seat). Their outlines,
the town boundary and the special grids' outlines are noded together once, snap-rounded to the
written precision, and polygonized into faces: every grid is then a union of the same faces,
so neighbours share bit-identical vertices and parents carry their children's vertices.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from demo_town.common import GRID_SIZE, to_lonlat, to_metric

VILLAGES = 18
CELLS = 64
MIN_CELLS, MAX_CELLS = 2, 6
SAMPLES = 24_000
CLIP_MARGIN_M = 3_000.0  # Voronoi cells are cut to the town's box plus this before noding


@dataclass
class Faces:
    """The atomic polygons of the noded linework (lon/lat) and which cell owns each."""

    shapes: np.ndarray  # of Polygon
    cell: np.ndarray  # int, index into the cells
    village_of_cell: list[int]

    def union(self, mask: np.ndarray) -> BaseGeometry:
        """The union of the faces selected by a boolean mask."""
        return shapely.union_all(self.shapes[mask])


def population_sample(rng: random.Random, town_m: Polygon, centre_m: Point) -> np.ndarray:
    """Points spread like the population: uniform, plus a denser knot around the town seat."""
    nprng = np.random.default_rng(rng.getrandbits(63))
    minx, miny, maxx, maxy = town_m.bounds
    shapely.prepare(town_m)
    chunks, total = [], 0
    while total < SAMPLES:
        uniform = nprng.uniform((minx, miny), (maxx, maxy), size=(SAMPLES, 2))
        knot = nprng.normal((centre_m.x, centre_m.y), 1_800.0, size=(SAMPLES // 3, 2))
        both = np.vstack([uniform, knot])
        inside = both[shapely.contains_xy(town_m, both[:, 0], both[:, 1])]
        chunks.append(inside)
        total += len(inside)
    return np.vstack(chunks)[:SAMPLES]


def kmeans(points: np.ndarray, k: int, rng: random.Random, rounds: int = 40) -> np.ndarray:
    """Lloyd's k-means from k distinct sample points; centres sorted north-west first."""
    centres = points[sorted(rng.sample(range(len(points)), k))].copy()
    for _ in range(rounds):
        label = nearest(points, centres)
        for j in range(k):
            mine = points[label == j]
            if len(mine):
                centres[j] = mine.mean(axis=0)
    order = np.lexsort((centres[:, 0], -centres[:, 1] + centres[:, 0] * 0.3))
    return centres[order]


def nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every point."""
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d, axis=1)


def cells_per_village(weights: np.ndarray, total: int = CELLS,
                      bounds: tuple[int, int] = (MIN_CELLS, MAX_CELLS)) -> list[int]:
    """`bounds` (2–6) cells per village, `total` (64) in all, roughly in proportion to the
    weights."""
    low, high = bounds
    target = total * weights / weights.sum()
    counts = np.clip(np.rint(target), low, high).astype(int)
    while counts.sum() != total:
        gap = target - counts
        if counts.sum() < total:
            j = int(np.argmax(np.where(counts < high, gap, -np.inf)))
            counts[j] += 1
        else:
            j = int(np.argmin(np.where(counts > low, gap, np.inf)))
            counts[j] -= 1
    return [int(c) for c in counts]


def voronoi_cells(seeds: np.ndarray, frame: Polygon) -> list[Polygon]:
    """Voronoi cells of the seeds, in seed order, cut to the frame."""
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame)
    polygons = list(shapely.get_parts(diagram))
    cells = []
    for x, y in seeds:
        point = Point(x, y)
        cell = next(p for p in polygons if p.contains(point))
        cells.append(shapely.intersection(cell, frame))
    return cells


@dataclass(frozen=True)
class Layout:
    """The cells (metres, convex) and the village each belongs to."""

    cells: list[Polygon]
    village_of_cell: list[int]


def layout(rng: random.Random, town_m: Polygon, centre_m: Point, *, villages: int = VILLAGES,
           cells: int = CELLS, bounds: tuple[int, int] = (MIN_CELLS, MAX_CELLS)) -> Layout:
    """`villages` villages by k-means on the sample, then `cells` cells (`bounds` per village)
    by k-means inside each village."""
    sample = population_sample(rng, town_m, centre_m)
    frame = shapely.box(*town_m.buffer(CLIP_MARGIN_M).bounds)
    village_seeds = kmeans(sample, villages, rng)
    label = nearest(sample, village_seeds)
    counts = cells_per_village(np.bincount(label, minlength=villages).astype(float), cells,
                               bounds)
    shapes, owner = [], []
    for v, village in enumerate(voronoi_cells(village_seeds, frame)):
        seeds = kmeans(sample[label == v], counts[v], rng)
        for cell in voronoi_cells(seeds, frame):
            shapes.append(shapely.intersection(cell, village))
            owner.append(v)
    return Layout(shapes, owner)


def node_faces(town: Polygon, outlines: Sequence[BaseGeometry]) -> np.ndarray:
    """Faces of the town boundary and all outlines (lon/lat), noded on the precision grid."""
    lines = [town.exterior, *(shapely.boundary(o) for o in outlines)]
    noded = shapely.union_all(np.array(lines, dtype=object), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    shapely.prepare(town)
    inside = shapely.contains(town, shapely.point_on_surface(faces))
    return faces[inside]


def assign_faces(faces: np.ndarray, cells_ll: Sequence[Polygon]) -> np.ndarray:
    """The cell containing each face's inner point (the nearest for a degenerate face)."""
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(np.array(cells_ll, dtype=object))
    owner = np.full(len(faces), -1, dtype=int)
    found_point, found_cell = tree.query(points, predicate="within")
    for p, c in zip(found_point, found_cell, strict=True):
        if owner[p] < 0 or c < owner[p]:
            owner[p] = c
    for p in np.flatnonzero(owner < 0):
        owner[p] = int(tree.nearest(points[p]))
    return owner


def build_faces(rng: random.Random, town: Polygon, centre: Point,
                extra_outlines: Sequence[BaseGeometry]) -> Faces:
    """The noded faces of the town and the cell owning each, before any repair."""
    plan = layout(rng, to_metric(town), to_metric(centre))
    cells_ll = [to_lonlat(c) for c in plan.cells]
    faces = node_faces(town, [*cells_ll, *extra_outlines])
    return Faces(faces, assign_faces(faces, cells_ll), list(plan.village_of_cell))
