"""H3 hexagons for heat maps: counting points per cell and drawing the cells.

H3 cells do not nest exactly and straddle grid boundaries, so they are never used to decide
which grid a point is in (see BENCHMARKS.md); they are good for showing where reports gather,
because every cell has nearly the same area and shape.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import h3

HEAT_RESOLUTION = 8  # ~0.74 km² a cell: a village's few hotspots stand apart


def count_cells(points: Iterable[tuple[float, float]],
                resolution: int = HEAT_RESOLUTION) -> Counter[str]:
    """How many (lon, lat) points fall in each H3 cell."""
    return Counter(h3.latlng_to_cell(lat, lon, resolution) for lon, lat in points)


def cell_polygon(cell: str) -> dict[str, Any]:
    """The cell as a closed GeoJSON polygon (lon, lat)."""
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}
