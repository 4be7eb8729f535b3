"""Boundary files as real tools write them, made from an exact set of grids: coordinates cut to
a number of decimals, every grid digitised again on its own (each vertex moved by up to some
centimetres), a special grid drawn in its own layer poking out of its town, a real gap.

Used by the repair tests and `bench/bench_repair.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from grid_layers.metric import Metric, objects
from grid_layers.validation import GridRecord

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def rounded(grids: Sequence[GridRecord], decimals: int) -> list[GridRecord]:
    """Every coordinate cut to `decimals` places, as a web tool's GeoJSON writer does."""
    return [replace(g, geometry=shapely.transform(g.geometry, lambda xy: np.round(xy, decimals)))
            for g in grids]


def redigitised(grids: Sequence[GridRecord], metres: float, seed: int) -> list[GridRecord]:
    """Each grid's vertices moved on their own by up to `metres` in any direction, so that
    neighbours' shared edges no longer match (the same edge drawn twice)."""
    rng = np.random.default_rng(seed)
    return [replace(g, geometry=_jitter(g.geometry, metres, rng)) for g in grids]


def _jitter(geometry: BaseGeometry, metres: float, rng: np.random.Generator) -> BaseGeometry:
    def ring(coords: np.ndarray) -> np.ndarray:
        xy = np.asarray(coords)[:-1]
        lat = math.radians(float(xy[:, 1].mean()))
        radius = metres * np.sqrt(rng.uniform(0.0, 1.0, len(xy)))
        angle = rng.uniform(0.0, 2.0 * math.pi, len(xy))
        step = np.column_stack([
            radius * np.cos(angle) / (_M_PER_DEG_LON_EQUATOR * math.cos(lat)),
            radius * np.sin(angle) / _M_PER_DEG_LAT])
        moved = xy + step
        return np.vstack([moved, moved[:1]])

    parts = [Polygon(ring(p.exterior.coords), [ring(h.coords) for h in p.interiors])
             for p in shapely.get_parts(geometry)]
    return MultiPolygon(parts) if geometry.geom_type == "MultiPolygon" else parts[0]


def grown(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    """The shape grown by `metres` on every side (measured in metres, mitred corners)."""
    metric = Metric(objects([geometry]))
    bigger = shapely.buffer(metric.project(objects([geometry])), metres, join_style="mitre")
    return metric.unproject(bigger)[0]


def generalised_parents(grids: Sequence[GridRecord], metres: float) -> list[GridRecord]:
    """Every grid with children redrawn on its own, its outline simplified (Douglas-Peucker)
    by up to `metres`: the children's vertices then lie near, not on, their parent's edges, as
    when a town's outline and its villages come from different drawings."""
    parents = {g.parent_code for g in grids if g.parent_code}
    lat = float(np.mean(shapely.bounds(objects([g.geometry for g in grids]))[:, [1, 3]]))
    degrees = metres / (_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)))
    return [replace(g, geometry=shapely.simplify(g.geometry, degrees, preserve_topology=True))
            if g.code in parents else g for g in grids]


def poking_special(grids: Sequence[GridRecord], inside: str, code: str,
                   metres: float) -> list[GridRecord]:
    """A special grid drawn over the comprehensive grid `inside` (on the town's edge), grown
    by `metres`, so it pokes that far out of the town."""
    base = next(g for g in grids if g.code == inside)
    town = next(g for g in grids if g.level == 1)
    special = GridRecord(code, "外扩专属网格", "environment", None, town.code,
                         grown(base.geometry, metres))
    return [*grids, special]


def with_gap(grids: Sequence[GridRecord], code: str, metres: float) -> list[GridRecord]:
    """The grid `code` shrunk by `metres` on every side: a real gap its neighbours must not
    swallow."""
    return [replace(g, geometry=grown(g.geometry, -metres)) if g.code == code else g
            for g in grids]
