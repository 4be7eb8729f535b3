"""Reports binned per week and per H3 cell, category and level-3 grid, as count matrices, and
each week tested against the weeks before it (grid_layers.hotspots)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
from h3.api import basic_int
from numpy.typing import NDArray

from grid_layers.hotspots import Flags, flag_counts

WEEK_SECONDS = 7 * 86400.0
KEYS = ("cell", "category", "grid")


@dataclass(frozen=True)
class Thresholds:
    """When a count is a warning; the values (and their defaults) are the hotspot settings in
    gis_service/config.py (`service.thresholds_from`)."""

    baseline_weeks: int
    p_value: float
    min_count: int
    new_cluster_min: int
    repeat_address: int
    repeat_radius_m: float
    resolution: int


@dataclass(frozen=True)
class Binned:
    """Per report its week (0 = oldest) and its key index per kind; the keys per kind."""

    weeks: int
    week: NDArray[np.int64]
    index: dict[str, NDArray[np.int64]]
    keys: dict[str, NDArray[Any]]

    def matrix(self, kind: str) -> NDArray[np.int64]:
        """Counts as (keys, weeks)."""
        n = len(self.keys[kind])
        flat = self.index[kind] * self.weeks + self.week
        return np.bincount(flat, minlength=n * self.weeks).reshape(n, self.weeks)

    def week_mask(self, week: int) -> NDArray[np.bool_]:
        """Which reports fall in the given week."""
        return np.asarray(self.week == week)


def bin_reports(rows: Sequence[Any], *, start_epoch: float, weeks: int,
                resolution: int) -> Binned:
    """Bin (lon, lat, epoch, category, grid3) rows of [start, start + weeks)."""
    to_cell = basic_int.latlng_to_cell  # integer cells: numpy sorts them, not strings
    cells = np.fromiter((to_cell(row[1], row[0], resolution) for row in rows),
                        dtype=np.uint64, count=len(rows))
    epochs = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
    week = np.clip(np.floor((epochs - start_epoch) / WEEK_SECONDS), 0, weeks - 1)
    unique_cells, cell_index = np.unique(cells, return_inverse=True)
    index = {"cell": cell_index.astype(np.int64).reshape(-1)}
    keys = {"cell": np.array([h3.int_to_str(int(c)) for c in unique_cells], dtype=object)}
    for kind, column in (("category", 3), ("grid", 4)):
        codes: dict[str, int] = {}  # few distinct values: a dict beats sorting a million
        found = np.fromiter((codes.setdefault(row[column] or "", len(codes)) for row in rows),
                            dtype=np.int64, count=len(rows))
        index[kind], keys[kind] = found, np.array(list(codes), dtype=object)
    return Binned(weeks, week.astype(np.int64), index, keys)


def flag_week(counts: NDArray[np.int64], week: int, thresholds: Thresholds) -> Flags:
    """Each key's count in `week` against its mean over the baseline weeks before it."""
    first = max(0, week - thresholds.baseline_weeks)
    return flag_counts(counts[:, week], counts[:, first:week], p_value=thresholds.p_value,
                       min_count=thresholds.min_count)


def new_cells(counts: NDArray[np.int64], week: int, thresholds: Thresholds) -> NDArray[np.bool_]:
    """Cells with at least `new_cluster_min` reports this week and none in the baseline."""
    first = max(0, week - thresholds.baseline_weeks)
    return np.asarray((counts[:, week] >= thresholds.new_cluster_min)
                      & (counts[:, first:week].sum(axis=1) == 0))


def scan_weeks(binned: Binned, thresholds: Thresholds) -> list[dict[str, int]]:
    """For every week with a full baseline before it: how many cells, categories and grids
    were flagged and how many cells were new — the year scan of the benchmark and the CLI."""
    counts = {kind: binned.matrix(kind) for kind in KEYS}
    out = []
    for week in range(thresholds.baseline_weeks, binned.weeks):
        found = {kind: int(flag_week(counts[kind], week, thresholds).flagged.sum())
                 for kind in KEYS}
        found["new_cells"] = int(new_cells(counts["cell"], week, thresholds).sum())
        out.append({"week": week, **found})
    return out
