"""Measuring lon/lat geometries in metres: one vectorised projection to the Gauss-Kruger zone of
the set's mean longitude. Validation and repair both size what they find with it.

Areas of pieces are the lon/lat area times the ellipsoid's square metres per square degree at
the piece's latitude, not the area after projecting its vertices: an edge straight in lon/lat
bends in metres, so the hair's-width triangle between an edge and a vertex lying on it (a
T-junction, zero area as stored) measured 0.2-7 m² projected and showed as a sliver."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from grid_layers.crs import from_metric_transformer, to_metric_transformer

POLYGON_TYPE_ID = 3
_A, _E2 = 6_378_137.0, 0.006_694_380_022_90  # GRS80, the CGCS2000 ellipsoid


def square_metres_per_square_degree(lat: np.ndarray) -> np.ndarray:
    """The area of one square degree (lon x lat) at each latitude, on the ellipsoid."""
    phi = np.radians(lat)
    w = 1.0 - _E2 * np.sin(phi) ** 2
    meridian = _A * (1.0 - _E2) / w**1.5  # radius of curvature along the meridian
    normal = _A / np.sqrt(w)  # and across it
    per_degree = math.pi / 180.0
    return np.asarray((meridian * per_degree) * (normal * np.cos(phi) * per_degree))


def objects(items: Sequence[BaseGeometry]) -> np.ndarray:
    """A numpy object array of geometries (np.array would unpack multi-part shapes)."""
    array = np.empty(len(items), dtype=object)
    array[:] = list(items)
    return array


class Metric:
    """Measures lon/lat geometries in metres, in the zone of their mean longitude."""

    def __init__(self, geometries: np.ndarray) -> None:
        bounds = shapely.bounds(geometries)
        # with nothing to measure any zone will do
        lon = float(np.mean((bounds[:, 0] + bounds[:, 2]) / 2.0)) if len(bounds) else 120.0
        self.transformer = to_metric_transformer(lon)
        self.inverse = from_metric_transformer(lon)

    def project(self, geometries: np.ndarray) -> np.ndarray:
        """All geometries to metres in one vectorised transform."""

        def forward(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(self.transformer.transform(xy[:, 0], xy[:, 1]))

        return np.asarray(shapely.transform(geometries, forward))

    def unproject(self, geometries: np.ndarray) -> np.ndarray:
        """Metric geometries back to lon/lat."""

        def back(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(self.inverse.transform(xy[:, 0], xy[:, 1]))

        return np.asarray(shapely.transform(geometries, back))

    def points(self, xy: np.ndarray) -> np.ndarray:
        """Lon/lat coordinate rows to metres."""
        if not len(xy):
            return np.zeros((0, 2))
        return np.column_stack(self.transformer.transform(xy[:, 0], xy[:, 1]))

    def polygons(self, geometries: np.ndarray) -> tuple[np.ndarray, ...]:
        """Polygon components (lon/lat), owner index, metric geometry, area and mean width."""
        parts, owner = shapely.get_parts(geometries, return_index=True)
        parts, inner = shapely.get_parts(parts, return_index=True)  # collections may nest multis
        keep = shapely.get_type_id(parts) == POLYGON_TYPE_ID  # lines, points of overlays go
        parts, owner = parts[keep], owner[inner][keep]
        metric = self.project(parts)
        bounds = shapely.bounds(parts)
        lat = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2.0)  # empty parts: area 0 anyway
        area = shapely.area(parts) * square_metres_per_square_degree(lat)
        width = 2.0 * area / np.maximum(shapely.length(metric), 1e-12)
        return parts, owner, metric, area, width
