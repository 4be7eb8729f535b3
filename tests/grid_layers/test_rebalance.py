"""A suggested rebalance tiles the parent, keeps grids contiguous and brings grids into the band."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from grid_layers.rebalance import Rebalanced, balance, rebalance_parent
from grid_layers.validation import GridRecord, validate_hierarchy

X0, Y0, D = 120.40, 30.90, 0.01
BAND = (200.0, 400.0)
Points = np.ndarray


def boxes() -> dict[str, BaseGeometry]:
    """A 3 x 2 block of 0.01° squares: P-01 .. P-06, column by column."""
    out, k = {}, 1
    for i in range(3):
        for j in range(2):
            out[f"P-{k:02d}"] = shapely.box(X0 + i * D, Y0 + j * D, X0 + (i + 1) * D,
                                            Y0 + (j + 1) * D)
            k += 1
    return out


def voronoi_parent(seed: int) -> dict[str, BaseGeometry]:
    """Seven irregular grids: Voronoi cells of random seeds clipped to a wobbly blob."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    r = 0.012 * (1 + 0.15 * np.cos(3 * t + 1) + 0.1 * np.sin(5 * t))
    blob = shapely.Polygon(np.c_[X0 + r * np.cos(t) / 0.86, Y0 + r * np.sin(t)])
    seeds = rng.uniform([X0 - 0.008, Y0 - 0.008], [X0 + 0.008, Y0 + 0.008], (7, 2))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                       extend_to=blob.buffer(0.01)))
    return {f"V-{k + 1:02d}": shapely.intersection(c, blob) for k, c in enumerate(cells)}


def clustered(grids: dict[str, BaseGeometry], seed: int, crowd: int) -> Points:
    """Points spread over the grids, plus a dense cluster around the first grid's centre."""
    rng = np.random.default_rng(seed)
    parent = shapely.union_all(list(grids.values()))
    x0, y0, x1, y1 = parent.bounds
    spread = rng.uniform([x0, y0], [x1, y1], (4000, 2))
    spread = spread[shapely.contains_xy(parent, spread[:, 0], spread[:, 1])][:700]
    centre = shapely.centroid(grids[min(grids)])
    dense = rng.normal([centre.x, centre.y], 0.0012, (3 * crowd, 2))
    dense = dense[shapely.contains_xy(grids[min(grids)], dense[:, 0], dense[:, 1])][:crowd]
    return np.vstack([spread, dense])


def counts(grids: dict[str, BaseGeometry], points: Points) -> dict[str, float]:
    return {c: float(shapely.contains_xy(g, points[:, 0], points[:, 1]).sum())
            for c, g in grids.items()}


def records(parent: BaseGeometry, grids: dict[str, BaseGeometry]) -> list[GridRecord]:
    """The new level-3 grids under their parent, under a town of the same shape."""
    return [GridRecord("T", "town", "comprehensive", 1, None, parent),
            GridRecord("P", "parent", "comprehensive", 2, "T", parent),
            *(GridRecord(c, c, "comprehensive", 3, "P", g) for c, g in grids.items())]


def run(grids: dict[str, BaseGeometry], points: Points, seed: int = 7) -> Rebalanced:
    return rebalance_parent(parent_code="P", grids=grids, xy=points,
                            weights=np.ones(len(points)), band=BAND, seed=seed)


@pytest.mark.parametrize("grids", [boxes(), voronoi_parent(3)], ids=["boxes", "voronoi"])
def test_the_result_tiles_the_parent_with_contiguous_grids_in_band(
        grids: dict[str, BaseGeometry]) -> None:
    points = clustered(grids, seed=1, crowd=700)
    result = run(grids, points)
    parent = shapely.union_all(list(grids.values()))
    shapes = list(result.grids.values())
    assert sum(s.area for s in shapes) == pytest.approx(parent.area, rel=1e-9)
    assert shapely.union_all(shapes).symmetric_difference(parent).area < 1e-9 * parent.area
    assert validate_hierarchy(records(parent, result.grids)) == []
    assert all(s.geom_type == "Polygon" for s in shapes)
    before = balance(counts(grids, points).values(), BAND)
    after = balance(result.households.values(), BAND)
    assert after.in_band > before.in_band and after.in_band >= after.grids - 1
    assert result.households == counts(result.grids, points)  # no unit lost or counted twice
    assert result.unplaced == 0


def test_a_crowded_grid_is_split_with_a_code_after_the_parents_last() -> None:
    grids = boxes()
    points = clustered(grids, seed=2, crowd=900)
    result = run(grids, points)
    assert result.added and all(c > "P-06" for c in result.added)
    assert result.households["P-01"] <= BAND[1]


def test_grids_far_from_trouble_keep_their_exact_shape() -> None:
    grids = boxes()
    rng = np.random.default_rng(4)
    points = np.vstack([  # 300 per grid, P-01 (south-west) crowded with 700
        rng.uniform([b.bounds[0], b.bounds[1]], [b.bounds[2], b.bounds[3]],
                    (700 if c == "P-01" else 300, 2)) for c, b in grids.items()])
    result = run(grids, points)
    # P-05, P-06 (east column) do not border P-01: in band, nothing to trade with it
    assert {"P-05", "P-06"} <= set(result.kept)
    assert all(result.grids[c] is grids[c] for c in result.kept)
    assert balance(result.households.values(), BAND).in_band == len(result.grids)


def test_nothing_changes_when_every_grid_is_in_band() -> None:
    grids = boxes()
    rng = np.random.default_rng(5)
    points = rng.uniform([X0, Y0], [X0 + 3 * D, Y0 + 2 * D], (1800, 2))
    result = run(grids, points)
    assert result.kept == tuple(sorted(grids)) and not (result.reshaped or result.added)


def test_the_same_seed_gives_the_same_result() -> None:
    grids = voronoi_parent(11)
    points = clustered(grids, seed=6, crowd=800)
    first, second = run(grids, points, seed=9), run(grids, points, seed=9)
    assert first.households == second.households
    assert all(shapely.equals_exact(first.grids[c], second.grids[c], 0) for c in first.grids)


def test_balance_counts_grids_in_band() -> None:
    assert balance([150, 250, 400, 401], BAND) == balance([401, 400, 250, 150], BAND)
    assert balance([150, 250, 400, 401], BAND).in_band == 2
