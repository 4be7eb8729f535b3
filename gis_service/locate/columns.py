"""The compact batch answer of POST /api/v1/locate (`fields=`): only the codes asked for, one
array per field, or CSV.

The full answer builds a nested object per point, and encoding those (not locating) is what a
big batch costs; here each field is one array filled from the layers' index arrays at once."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gis_service.errors import InvalidInputError
from gis_service.locate.snapshot import LocatorSnapshot
from grid_layers.locator import OverlayLayer, PartitionLayer

# what a point's answer can be reduced to: a code (None where no area), a list of codes for
# the overlays, the grid's worker code, whether the point is in a town
FIELDS = ("in_service_area", "county", "town", "grid2", "grid3", "district", "squad", "special",
          "zones", "worker")
LISTS = frozenset({"special", "zones"})
LIST_SEPARATOR = ";"  # between an overlay's codes in a CSV cell


def parse_fields(value: str | Sequence[str]) -> tuple[str, ...]:
    """The fields asked for (`town,grid2` or a list), each known, none twice, in order."""
    names = value.split(",") if isinstance(value, str) else list(value)
    fields = tuple(dict.fromkeys(name.strip() for name in names if name.strip()))
    unknown = [name for name in fields if name not in FIELDS]
    if unknown or not fields:
        raise InvalidInputError(f"unknown field(s) {', '.join(unknown) or '(none given)'}; "
                                f"fields are {', '.join(FIELDS)}", fields=list(FIELDS))
    return fields


def columns(snapshot: LocatorSnapshot[Any], lon: NDArray[np.float64], lat: NDArray[np.float64],
            fields: Sequence[str]) -> dict[str, list[Any]]:
    """One list per field, in point order."""
    found: dict[str, NDArray[np.int32]] = {}

    def index(name: str, layer: PartitionLayer) -> NDArray[np.int32]:
        if name not in found:
            found[name] = layer.locate(lon, lat)
        return found[name]

    partitions = {"county": snapshot.county_layer, "town": snapshot.town_layer,
                  "grid2": snapshot.grid2_layer,
                  "grid3": snapshot.grid3_layer, "district": snapshot.district_layer}
    out: dict[str, list[Any]] = {}
    for field in fields:
        if field in partitions:
            layer = partitions[field]
            out[field] = _pick(list(layer.codes), index(field, layer))
        elif field == "in_service_area":
            out[field] = (index("town", snapshot.town_layer) >= 0).tolist()
        elif field == "squad":
            squads = [info["squad_code"] for info in snapshot.district_info]
            out[field] = _pick(squads, index("district", snapshot.district_layer))
        elif field == "worker":
            workers = [(snapshot.worker_by_grid.get(code) or {}).get("code")
                       for code in snapshot.grid3_layer.codes]
            out[field] = _pick(workers, index("grid3", snapshot.grid3_layer))
        else:
            layer_of = {"special": snapshot.special_layer, "zones": snapshot.zone_layer}
            out[field] = _lists(layer_of[field], lon, lat)
    return out


def _pick(values: list[Any], index: NDArray[np.int32]) -> list[Any]:
    """values[i] for each index, None for -1 (no area)."""
    table = np.array([*values, None], dtype=object)  # -1 picks the trailing None
    return list(table[index].tolist())


def _lists(layer: OverlayLayer, lon: NDArray[np.float64],
           lat: NDArray[np.float64]) -> list[list[str]]:
    """Per point, the codes of the overlay areas covering it (points alike share a list)."""
    points, codes = layer.locate(lon, lat)
    out: list[list[str]] = [[] for _ in range(len(lon))]
    if len(points):
        starts = np.flatnonzero(np.diff(points, prepend=-1))  # pairs come sorted by point
        shared: dict[tuple[int, ...], list[str]] = {}
        for point, run in zip(points[starts].tolist(), np.split(codes, starts[1:]),
                              strict=True):
            key = tuple(run.tolist())
            if key not in shared:
                shared[key] = [layer.codes[i] for i in key]
            out[point] = shared[key]
    return out


def to_csv(table: dict[str, list[Any]]) -> str:
    """A header of the fields, then a row per point (empty where no area, lists joined by
    `;`, true or false)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table)
    cells = [_cells(name, values) for name, values in table.items()]
    writer.writerows(zip(*cells, strict=True))
    return buffer.getvalue()


def _cells(name: str, values: list[Any]) -> list[str]:
    if name in LISTS:
        return [LIST_SEPARATOR.join(v) for v in values]
    if name == "in_service_area":
        return ["true" if v else "false" for v in values]
    return ["" if v is None else v for v in values]
