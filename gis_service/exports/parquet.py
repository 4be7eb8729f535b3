"""The incidents as GeoParquet, partitioned by town and month in the hive style
(`town_code=QD/month=2026-11/part-00000.parquet`; an incident outside every town, or not
placed, under `town_code=none`), for dask-geopandas, GDAL, DuckDB or Spark to read. Not hive's
own name for a null value (`__HIVE_DEFAULT_PARTITION__`): dask-geopandas infers a partition
column's type from one folder and fails when that one is null.

The rows are read through a server-side cursor a chunk at a time, in (town, month, id) order
(sql/incidents_parquet.sql), so a year of history is never in memory and a partition's rows
come together: each chunk writes one file per partition it holds, with geopandas' `to_parquet`
(WKB points, the GeoParquet `geo` metadata). The coordinates are the stored CGCS2000 lon/lat,
written unchanged and declared EPSG:4326, as the other exports do (the two agree to within
centimetres)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas
import pandas as pd
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service import sql_files
from gis_service.errors import InvalidInputError
from gis_service.incidents.models import Incident

ROWS = sql_files.load(Path(__file__).parent / "sql", "incidents_parquet")
KINDS = ("incidents",)
FORMATS = ("parquet",)
PARTITIONS = ("town_code", "month")
NO_TOWN = "none"  # the partition of incidents outside every town
CHUNK = 100_000  # rows read, and at most written to one file, at a time
CRS = "EPSG:4326"
# Every column but the geometry (WKB, made into points), as pandas types whose Parquet and
# pandas metadata every reader knows (dask reads the latter back; Arrow-backed list dtypes it
# could not): text, nullable integers, UTC times. Lists are joined by ";", as every export
# of the layer writes them (layers.py).
_TEXT, _TIME = pd.StringDtype(), pd.DatetimeTZDtype("us", "UTC")
TYPES: dict[str, Any] = {
    "town_code": _TEXT, "month": _TEXT, "id": pd.Int64Dtype(), "status": _TEXT,
    "source": _TEXT, "external_id": _TEXT, "category": _TEXT, "description": _TEXT,
    "address": _TEXT, "grid2": _TEXT, "grid3": _TEXT, "district": _TEXT, "zones": _TEXT,
    "assignee_type": _TEXT, "assignee_code": _TEXT, "cooperating": _TEXT,
    "priority": pd.Int16Dtype(), "resolution": _TEXT, "satisfaction": pd.Int16Dtype(),
    "reported_at": _TIME, "due_at": _TIME, "created_at": _TIME, "updated_at": _TIME}


@dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    rows: int
    files: int
    partitions: int


def export(session: Session, *, kind: str, fmt: str, out: Path, chunk: int = CHUNK,
           progress: bool = False) -> Exported:
    """Write `kind` as `fmt` under the folder `out` (made; it must be empty)."""
    if kind not in KINDS:
        raise InvalidInputError(f"unknown export {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(f"{out} is not an empty folder: the export would mix with it")
    out.mkdir(parents=True, exist_ok=True)
    total = session.scalar(select(func.count()).select_from(Incident)) or 0
    rows = files = 0
    partitions: set[tuple[str, str]] = set()
    with tqdm(total=total, unit="row", unit_scale=True, disable=not progress,
              desc="export") as bar:
        for number, part in enumerate(_chunks(session, chunk)):
            for key, frame in _frame(part).groupby(list(PARTITIONS), sort=False, dropna=False):
                town, month = (NO_TOWN if pd.isna(v) else str(v) for v in key)
                folder = out / f"town_code={town}" / f"month={month}"
                folder.mkdir(parents=True, exist_ok=True)
                _write(frame.drop(columns=list(PARTITIONS)), folder / f"part-{number:05d}.parquet")
                files += 1
                partitions.add((town, month))
            rows += len(part)
            bar.update(len(part))
    return Exported(rows, files, len(partitions))


def _chunks(session: Session, size: int) -> Iterator[Sequence[Row[Any]]]:
    result = session.execute(ROWS.execution_options(stream_results=True, yield_per=size))
    yield from result.partitions(size)


def _frame(rows: Sequence[Row[Any]]) -> pd.DataFrame:
    """A chunk as columns of fixed Arrow types: every file of the export has one schema,
    whatever its rows hold (a column all null in one file is still a string there)."""
    names = list(rows[0]._fields)
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(values, dtype=TYPES.get(name, object))
                         for name, values in zip(names, columns, strict=True)})


def _write(frame: pd.DataFrame, path: Path) -> None:
    wkb = frame["geometry"].map(lambda g: None if g is None else bytes(g))
    points = geopandas.GeoSeries.from_wkb(wkb, crs=CRS, index=frame.index)
    geopandas.GeoDataFrame(frame.drop(columns=["geometry"]), geometry=points).to_parquet(
        path, index=False)
