"""The locator at province scale: 100,000 grids sharing their edges exactly, against shapely.

The grids have ~17 vertices each (the benchmark, bench/bench_locator_scale.py, uses ~200 and
checks PostGIS ST_Covers too); the index is the same at either detail, only its cells fewer.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from bench.bench_locator_scale import boundary_points, province_grids, random_points
from grid_layers.locator import OverlayLayer, PartitionLayer


def covering(
    codes: list[str], geoms: list[BaseGeometry], x: NDArray[np.float64], y: NDArray[np.float64]
) -> list[list[str]]:
    """Per point, the sorted codes of the grids that shapely.covers it."""
    tree = shapely.STRtree(np.array(geoms, dtype=object))
    pi, gi = tree.query(shapely.points(x, y), predicate="covered_by")
    out: list[list[str]] = [[] for _ in range(len(x))]
    for p, g in zip(pi.tolist(), gi.tolist(), strict=True):
        out[p].append(codes[g])
    return [sorted(c) for c in out]


@pytest.fixture(scope="module")
def province() -> tuple[list[str], list[BaseGeometry]]:
    return province_grids(100_000, 16, seed=11)


def test_province_partition_is_exact(province: tuple[list[str], list[BaseGeometry]]) -> None:
    codes, geoms = province
    layer = PartitionLayer(codes, geoms)
    rx, ry = random_points(20_000, 12)
    bx, by = boundary_points(geoms, 20_000, 13)  # shared vertices, along shared edges, ulp off
    x, y = np.r_[rx, bx], np.r_[ry, by]
    expected = [c[0] if c else None for c in covering(codes, geoms, x, y)]
    got = layer.locate(x, y)
    assert [layer.codes[i] if i >= 0 else None for i in got.tolist()] == expected
    some = np.r_[np.arange(2000), 20_000 + np.arange(2000)]
    assert [layer.locate_point(x[i], y[i]) for i in some.tolist()] == [expected[i] for i in some]
    on_edge = np.flatnonzero([len(c) > 1 for c in covering(codes, geoms, bx, by)])
    assert len(on_edge) > 5000  # most boundary points are on an edge two grids share
    assert sum(e is None for e in expected[:20_000]) > 0  # and the box's corners are outside


def test_province_overlay_is_exact(province: tuple[list[str], list[BaseGeometry]]) -> None:
    codes, geoms = province
    layer = OverlayLayer(codes, geoms)
    rx, ry = random_points(5000, 14)
    bx, by = boundary_points(geoms, 5000, 15)
    x, y = np.r_[rx, bx], np.r_[ry, by]
    pi, ci = layer.locate(x, y)
    runs: list[list[str]] = [[] for _ in range(len(x))]
    for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
        runs[p].append(layer.codes[c])
    assert runs == covering(codes, geoms, x, y)
    assert max(len(r) for r in runs) >= 3  # shared vertices of three grids
