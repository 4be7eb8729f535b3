"""A locator snapshot: every boundary layer valid at one moment, ready for exact look-ups.

The snapshot is pure memory (grid_layers' cell-indexed prepared polygons plus name tables),
so answering a point costs no database round trip. `LocatorCache` decides when to rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from shapely.geometry.base import BaseGeometry

from gis_service.locate.located import Located
from grid_layers.locator import OverlayLayer, PartitionLayer

Result = dict[str, Any]  # the locate API's answer, in the contract's shape
_T = TypeVar("_T")
Book = TypeVar("Book")  # what another domain keeps beside the boundaries (the routing book)


@dataclass(frozen=True)
class Area:
    """An area as it appears in a locate answer."""

    code: str
    geometry: BaseGeometry
    info: dict[str, Any]  # the public fields: code, name and per-layer extras


@dataclass
class LayerInput:
    """What a snapshot is built from, grouped by layer."""

    counties: list[Area] = field(default_factory=list)  # level 0, when the deployment has one
    towns: list[Area] = field(default_factory=list)
    grid2: list[Area] = field(default_factory=list)
    grid3: list[Area] = field(default_factory=list)
    special: list[Area] = field(default_factory=list)
    districts: list[Area] = field(default_factory=list)
    zones: list[Area] = field(default_factory=list)
    worker_by_grid: dict[str, dict[str, str]] = field(default_factory=dict)


def _partition(areas: list[Area]) -> tuple[PartitionLayer, list[dict[str, Any]]]:
    layer = PartitionLayer([a.code for a in areas], [a.geometry for a in areas])
    info = {a.code: a.info for a in areas}
    return layer, [info[c] for c in layer.codes]


def _overlay(areas: list[Area]) -> tuple[OverlayLayer, list[dict[str, Any]]]:
    layer = OverlayLayer([a.code for a in areas], [a.geometry for a in areas])
    info = {a.code: a.info for a in areas}
    return layer, [info[c] for c in layer.codes]


class LocatorSnapshot(Generic[Book]):
    """Exact point-in-area answers for towns, grid levels 2 and 3, special grids, districts and
    zones: in the contract's shape for the API (`locate_point`, `locate_many`), as codes for
    the rules (`where`, `where_many`)."""

    def __init__(self, layers: LayerInput) -> None:
        self.county_layer, self.county_info = _partition(layers.counties)
        self.town_layer, self.town_info = _partition(layers.towns)
        self.grid2_layer, self.grid2_info = _partition(layers.grid2)
        self.grid3_layer, self.grid3_info = _partition(layers.grid3)
        self.district_layer, self.district_info = _partition(layers.districts)
        self.special_layer, self.special_info = _overlay(layers.special)
        self.zone_layer, self.zone_info = _overlay(layers.zones)
        self.worker_by_grid = layers.worker_by_grid
        # what other domains keep beside the boundaries (the routing book); see LocatorCache
        self.extra: Book | None = None
        self._squads = [info["squad_code"] for info in self.district_info]
        self._zone_levels = [int(info["level"]) for info in self.zone_info]
        self.by_code: dict[str, dict[str | None, dict[str, Any]]] = {
            name: {a.code: a.info for a in areas} for name, areas in (
                ("county", layers.counties), ("town", layers.towns), ("grid2", layers.grid2),
                ("grid3", layers.grid3),
                ("special", layers.special), ("district", layers.districts),
                ("zones", layers.zones))
        }

    def locate_point(self, lon: float, lat: float) -> Result:
        """The answer for one point in storage coordinates."""
        town = self.town_layer.locate_point(lon, lat)
        grid3 = self.grid3_layer.locate_point(lon, lat)
        return {
            "in_service_area": town is not None,
            "county": self.by_code["county"].get(self.county_layer.locate_point(lon, lat)),
            "town": self.by_code["town"].get(town),
            "grid2": self.by_code["grid2"].get(self.grid2_layer.locate_point(lon, lat)),
            "grid3": self.by_code["grid3"].get(grid3),
            "special": [self.by_code["special"][c]
                        for c in self.special_layer.locate_point(lon, lat)],
            "district": self.by_code["district"].get(self.district_layer.locate_point(lon, lat)),
            "zones": [self.by_code["zones"][c] for c in self.zone_layer.locate_point(lon, lat)],
            "worker": self.worker_by_grid.get(grid3) if grid3 else None,
        }

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> list[Result]:
        """Answers for many points; points with the same answer share one (read-only) dict."""
        return self._many(lon, lat, self._answer)

    def where(self, lon: float, lat: float) -> Located:
        """The codes covering one point in storage coordinates."""
        town = self.town_layer.locate_point(lon, lat)
        district = self.district_layer.locate_point(lon, lat)
        zones = self.zone_layer.locate_point(lon, lat)
        return Located(
            town, self.grid2_layer.locate_point(lon, lat), self.grid3_layer.locate_point(lon, lat),
            district, self.by_code["district"][district]["squad_code"] if district else None,
            tuple(self.special_layer.locate_point(lon, lat)), tuple(zones),
            frozenset(int(self.by_code["zones"][z]["level"]) for z in zones),
            self.county_layer.locate_point(lon, lat))

    def where_many(self, lon: np.ndarray, lat: np.ndarray) -> list[Located]:
        """The codes covering many points; points in the same areas share one value."""
        return self._many(lon, lat, self._located)

    def _many(self, lon: np.ndarray, lat: np.ndarray,
              build: Callable[[list[int], tuple[int, ...], tuple[int, ...]], _T]) -> list[_T]:
        """`build` once for each distinct set of areas, handed to every point in it."""
        n = len(lon)
        partitions = (self.town_layer, self.grid2_layer, self.grid3_layer, self.district_layer,
                      self.county_layer)
        columns = [layer.locate(lon, lat).astype(np.int64) + 1 for layer in partitions]
        special, special_sets = _overlay_keys(self.special_layer, lon, lat, n)
        zones, zone_sets = _overlay_keys(self.zone_layer, lon, lat, n)
        # one mixed-radix integer per point names its whole answer
        key = np.zeros(n, dtype=np.int64)
        radices = [len(layer.codes) + 1 for layer in partitions]
        for column, radix in zip([*columns, special, zones],
                                 [*radices, len(special_sets), len(zone_sets)], strict=True):
            key = key * radix + column
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        answers = [build([int(c[i]) - 1 for c in columns], special_sets[special[i]],
                         zone_sets[zones[i]]) for i in first.tolist()]
        return [answers[i] for i in inverse.tolist()]

    def _located(self, row: list[int], special: tuple[int, ...],
                 zones: tuple[int, ...]) -> Located:
        town, grid2, grid3, district, county = row
        return Located(
            _code_at(self.town_layer, town), _code_at(self.grid2_layer, grid2),
            _code_at(self.grid3_layer, grid3), _code_at(self.district_layer, district),
            self._squads[district] if district >= 0 else None,
            tuple(self.special_layer.codes[i] for i in special),
            tuple(self.zone_layer.codes[i] for i in zones),
            frozenset(self._zone_levels[i] for i in zones), _code_at(self.county_layer, county))

    def _answer(self, row: list[int], special: tuple[int, ...], zones: tuple[int, ...]) -> Result:
        town, grid2, grid3, district, county = row
        grid3_code = self.grid3_layer.codes[grid3] if grid3 >= 0 else None
        return {
            "in_service_area": town >= 0,
            "county": self.county_info[county] if county >= 0 else None,
            "town": self.town_info[town] if town >= 0 else None,
            "grid2": self.grid2_info[grid2] if grid2 >= 0 else None,
            "grid3": self.grid3_info[grid3] if grid3 >= 0 else None,
            "special": [self.special_info[i] for i in special],
            "district": self.district_info[district] if district >= 0 else None,
            "zones": [self.zone_info[i] for i in zones],
            "worker": self.worker_by_grid.get(grid3_code) if grid3_code else None,
        }


def _code_at(layer: PartitionLayer, index: int) -> str | None:
    return layer.codes[index] if index >= 0 else None


def _overlay_keys(layer: OverlayLayer, lon: np.ndarray, lat: np.ndarray,
                  n: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Per point, the index of the set of overlay areas covering it, and those sets."""
    points, codes = layer.locate(lon, lat)
    if len(layer.codes) <= 62:
        # a bit per area; the distinct bit patterns are the sets
        mask = np.zeros(n, dtype=np.int64)
        np.bitwise_or.at(mask, points, np.left_shift(np.int64(1), codes.astype(np.int64)))
        patterns, keys = np.unique(mask, return_inverse=True)
        sets = [tuple(b for b in range(len(layer.codes)) if p >> b & 1)
                for p in patterns.tolist()]
        return keys.reshape(-1).astype(np.int64), sets
    found: dict[tuple[int, ...], int] = {(): 0}
    keys = np.zeros(n, dtype=np.int64)
    if len(points):
        # pairs come sorted by point: one run per point
        starts = np.flatnonzero(np.diff(points, prepend=-1))
        for point, run in zip(points[starts].tolist(), np.split(codes, starts[1:]), strict=True):
            keys[point] = found.setdefault(tuple(run.tolist()), len(found))
    return keys, list(found)
