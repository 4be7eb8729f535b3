"""Small helpers on GeoJSON geometry for the pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def _positions(coordinates: Any) -> Iterator[tuple[float, float]]:
    """Every (lon, lat) in a GeoJSON coordinates array of any depth."""
    if coordinates and isinstance(coordinates[0], int | float):
        yield float(coordinates[0]), float(coordinates[1])
        return
    for part in coordinates or ():
        yield from _positions(part)


def bounds_of(features: Iterable[dict[str, Any]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] around the features (Leaflet's order); None when empty."""
    lons: list[float] = []
    lats: list[float] = []
    for item in features:
        for lon, lat in _positions((item.get("geometry") or {}).get("coordinates")):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]
