"""What re-attributing a batch of points computes, with no I/O (this is what runs on dask's
workers): the codes the boundaries give each point, as the compact columns of
`locate/columns.py` (a field's distinct values and an index per point), and which of them differ
from the codes stored.

The fields are the ones the boundaries decide (`incidents/core/placing.BOUNDARY_FIELDS`: town,
grid2, grid3, special grids). Stored codes travel as comparison keys: the code, "" for none,
special grids joined by ";" in code order, so that one hashed look-up per field compares a
whole batch (pandas' `Index.get_indexer`, in C) instead of a Python comparison per point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_service.incidents.core.placing import BOUNDARY_FIELDS
from gis_service.locate.columns import Column, Columns, columns
from gis_service.locate.snapshot import LayerInput, LocatorSnapshot

FIELDS: tuple[str, ...] = tuple(field for field, _ in BOUNDARY_FIELDS)
LIST_SEPARATOR = ";"  # between special grids' codes in a key (codes hold no ";")
Boundaries = LocatorSnapshot[None]


def boundaries_of(layers: LayerInput) -> Boundaries:
    """A locator of only the layers a re-attribution reads (towns, both grid levels, special
    grids): what is shipped to every worker."""
    return LocatorSnapshot(LayerInput(towns=layers.towns, grid2=layers.grid2,
                                      grid3=layers.grid3, special=layers.special))


@dataclass(frozen=True)
class Points:
    """A batch of points in storage coordinates, with their stored codes when known."""

    ids: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    before: tuple[NDArray[np.object_], ...] | None = None  # per field, the stored keys

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Attributed:
    """A batch's answer: the rows kept (all, or only those whose codes changed), each with
    its new codes, and whether they changed (all True when nothing was stored)."""

    ids: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    table: Columns
    changed: NDArray[np.bool_]
    points: int  # how many points the batch held

    def codes(self, field: str) -> list[Any]:
        """Per kept row, the field's new value (a code or None; special: a list of codes)."""
        column = self.table.columns[self.table.fields.index(field)]
        values = np.empty(len(column.values), dtype=object)
        values[:] = column.values
        return list(values[column.index])


def key(value: str | list[str] | tuple[str, ...] | None) -> str:
    """A stored or located value as a comparison key ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return LIST_SEPARATOR.join(sorted(value))


def attribute(boundaries: Boundaries, points: Points, *, only_changed: bool) -> Attributed:
    """The codes the boundaries give each point; with `only_changed`, only the rows whose
    codes differ from those stored."""
    table = columns(boundaries, points.lon, points.lat, FIELDS)
    changed = np.zeros(len(points), dtype=bool) if points.before else np.ones(len(points), bool)
    if points.before:
        for column, before in zip(table.columns, points.before, strict=True):
            stored = pd.Index([key(v) for v in column.values]).get_indexer(before)
            # a partition's -1 (no area) picks its last value, None, as a Python index does
            changed |= stored != column.index % len(column.values)
    if not only_changed:
        return Attributed(points.ids, points.lon, points.lat, table, changed, len(points))
    kept = np.flatnonzero(changed)
    narrowed = Columns(table.fields, tuple(Column(c.values, c.index[kept]) for c in table.columns))
    return Attributed(points.ids[kept], points.lon[kept], points.lat[kept], narrowed,
                      changed[kept], len(points))
