"""Re-attributing stored incidents (or a GeoParquet file of points) to the boundaries valid at
a chosen moment: the use case behind `gis-service relocate`.

The boundaries valid at `at` are read once (`locate.service.load_layers`) into a locator of the
layers an incident's place depends on (attribution.boundaries_of); the points are read a batch
at a time (sources.py), located by a runner (runner.py: here, or on dask workers that hold the
locator), and each answer goes where it was asked: the changed rows back into `incident`, a
batch per transaction (sinks.IncidentWriter), every point with its codes into a GeoParquet
file (sinks.ParquetWriter), or only counted (a dry run).

What a write changes is what a plan's publication changes: the columns of
`incidents/core/placing.BOUNDARY_FIELDS`, and for each open incident moved a `regrid` history
row with its handler kept (publish.settle_open); closed ones get no history row, as there.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service.errors import InvalidInputError
from gis_service.grids.queries import version_ids_at
from gis_service.locate.service import load_layers
from gis_service.relocate.attribution import Boundaries, Points, boundaries_of
from gis_service.relocate.runner import Runner
from gis_service.relocate.sinks import IncidentWriter, ParquetWriter
from gis_service.relocate.sources import PointFile, count_incidents, incident_batches

BATCH = 200_000  # points per batch: ~10 MiB in flight each, tens of ms of locating


@dataclass(frozen=True)
class Relocated:
    """What a run did."""

    at: datetime
    points: int  # points located
    changed: int  # whose codes differ from those stored (a file without codes: all)
    written: int  # incidents rewritten (0 for a dry run or a file)
    open_settled: int  # open incidents given a regrid history row
    seconds: float
    shipped: dict[str, int] | None  # per dask worker: how many times it unpickled the locator

    def lines(self) -> list[str]:
        """The report the command prints."""
        rate = self.points / self.seconds if self.seconds else 0.0
        lines = [f"boundaries valid at {self.at.isoformat()}",
                 f"{self.points:,} points located in {self.seconds:.1f} s "
                 f"({rate:,.0f} points/s)",
                 f"{self.changed:,} with codes that change"]
        if self.written or self.open_settled:
            lines.append(f"{self.written:,} incidents rewritten, {self.open_settled:,} open ones "
                         "with a regrid history row (handler kept)")
        if self.shipped is not None:
            lines.append("locator unpickled per worker: " + ", ".join(
                f"{worker} {count}" for worker, count in sorted(self.shipped.items())))
        return lines


@dataclass(frozen=True)
class BoundariesAt:
    """The boundaries valid at a moment: their locator, and which grid versions they are (a
    write checks that they still are)."""

    at: datetime
    locator: Boundaries
    versions: tuple[int, ...]


def boundaries_at(session: Session, at: datetime) -> BoundariesAt:
    """The boundaries valid at `at`; refused when no grid was valid then."""
    versions = version_ids_at(session, at)
    if not versions:
        raise InvalidInputError(f"no boundaries were valid at {at.isoformat()}")
    return BoundariesAt(at, boundaries_of(load_layers(session, at)), versions)


def relocate(session: Session, *, runner: Runner, boundaries: BoundariesAt,
             points_file: PointFile | None = None, output: Path | None = None,
             dry_run: bool = False, actor: str = "relocate", now: datetime,
             batch_size: int = BATCH, progress: bool = False) -> Relocated:
    """Re-attribute the stored incidents (or `points_file`) to `boundaries` (those valid at
    `at`): written back, into `output`, or only counted (`dry_run`)."""
    at = boundaries.at
    if points_file is not None and output is None and not dry_run:
        raise InvalidInputError("points from a file go to --output (or are counted with "
                                "--dry-run): they are not stored incidents")
    start = time.perf_counter()
    if points_file is not None:
        total = points_file.rows
        batches: Iterable[tuple[Points, Any]] = points_file.batches(batch_size)
    else:
        total = count_incidents(session)
        batches = ((points, None) for points in incident_batches(session, batch_size))
    parquet = (ParquetWriter(output, replaced=points_file.geometry if points_file else None)
               if output is not None else None)
    writer = (IncidentWriter(session, at=at, versions=boundaries.versions, actor=actor, now=now)
              if parquet is None and not dry_run and points_file is None else None)
    located = changed = written = settled = 0
    with tqdm(total=total, unit="pt", unit_scale=True, disable=not progress,
              desc="relocate") as bar:
        try:
            answers = runner.run(boundaries.locator, batches, only_changed=parquet is None)
            for answer, context in answers:
                located += answer.points
                changed += int(answer.changed.sum())
                if parquet is not None:
                    parquet.write(answer, context)
                elif writer is not None:
                    done = writer.write(answer)
                    written, settled = written + done.incidents, settled + done.open_settled
                bar.update(answer.points)
        finally:
            if parquet is not None:
                parquet.close()
    return Relocated(at, located, changed, written, settled, time.perf_counter() - start,
                     runner.shipped)

