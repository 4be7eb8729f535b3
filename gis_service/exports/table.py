"""Rows of a layer as typed columns: the layer's own fields, then each free attribute spread
into a column of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from gis_service.exports.layers import Columns, Layer

# Names an attribute may not take: the file's own id/geometry columns and CSV's lon/lat/wkt.
RESERVED = frozenset({"fid", "geom", "geometry", "wkt", "lon", "lat"})


@dataclass(frozen=True)
class Table:
    """Column names and kinds, one tuple of values per row, one WKB (or None) per row."""

    columns: Columns
    rows: list[tuple[Any, ...]]
    geometries: list[bytes | None]


def build_table(layer: Layer, records: Sequence[tuple[Any, bytes | None]]) -> Table:
    """The layer's records (model row, WKB) as a table."""
    rows = [layer.values(row) for row, _ in records]
    columns = layer.columns
    if layer.has_attributes:
        attributes = [row.attributes or {} for row, _ in records]
        extra = _attribute_columns(attributes, {name.lower() for name, _ in columns})
        columns = (*columns, *extra)
        rows = [(*values, *(_cell(a.get(name)) for name, _ in extra))
                for values, a in zip(rows, attributes, strict=True)]
    return Table(columns, rows, [wkb for _, wkb in records])


def _attribute_columns(attributes: list[dict[str, Any]], taken: set[str]) -> Columns:
    names: dict[str, list[Any]] = {}
    for item in attributes:
        for name, value in item.items():
            if name.lower() not in taken | RESERVED:
                names.setdefault(name, []).append(value)
    return tuple((name, _kind(values)) for name, values in names.items())


def _kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) for v in present):  # bool too: 1/0
        return "int"
    if present and all(isinstance(v, int | float) for v in present):
        return "float"
    return "str"


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def field_arrays(table: Table) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """One array per column (and a null mask for integer columns), as pyogrio writes them."""
    arrays: list[np.ndarray] = []
    masks: list[np.ndarray | None] = []
    for index, (_, kind) in enumerate(table.columns):
        values = [row[index] for row in table.rows]
        missing = np.array([v is None for v in values], dtype=bool)
        if kind == "int":
            arrays.append(np.array([0 if v is None else int(v) for v in values], dtype=np.int64))
            masks.append(missing)
        elif kind == "float":
            arrays.append(np.array([np.nan if v is None else float(v) for v in values],
                                   dtype=np.float64))
            masks.append(None)  # NaN is written as null
        else:
            arrays.append(np.array([None if v is None else str(v) for v in values],
                                   dtype=object))
            masks.append(None)
    return arrays, masks
