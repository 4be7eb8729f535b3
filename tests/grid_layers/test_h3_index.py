"""Heat-map hexagons: counts add up, and each drawn cell holds the points counted in it."""

from __future__ import annotations

from shapely.geometry import Point, shape

from grid_layers.h3_index import cell_polygon, count_cells


def test_counts_add_up_and_cells_hold_their_points() -> None:
    points = [(120.40 + 0.001 * i, 30.90 + 0.0007 * (i % 7)) for i in range(200)]
    counts = count_cells(points)
    assert sum(counts.values()) == len(points)
    assert len(counts) > 1
    for lon, lat in points[:50]:
        holding = [c for c in counts if shape(cell_polygon(c)).covers(Point(lon, lat))]
        assert holding, (lon, lat)


def test_polygon_is_closed_lon_lat() -> None:
    cell = next(iter(count_cells([(120.4, 30.9)])))
    ring = cell_polygon(cell)["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7
    assert all(119 < lon < 122 and 30 < lat < 32 for lon, lat in ring)
