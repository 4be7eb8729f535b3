"""Where the points to re-attribute come from, batch by batch: the stored incidents (by id,
with their codes) or a GeoParquet file of points (by record batch, with its other columns kept
for the output). Neither is read whole: a batch at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS, Transformer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service import sql_files
from gis_service.database import STORAGE_SRID
from gis_service.errors import InvalidInputError
from gis_service.incidents.core.placing import BOUNDARY_FIELDS
from gis_service.incidents.models import Incident
from gis_service.relocate.attribution import FIELDS, Points, key

READ_BATCH = sql_files.load(Path(__file__).parent / "sql", "read_batch")
# Lon/lat systems whose coordinates are taken as stored: CGCS2000 and WGS84 agree to within
# centimetres (the exports write them unchanged, too); OGC:CRS84 is GeoParquet's default.
AS_STORED = frozenset({"EPSG:4326", "EPSG:4490", "OGC:CRS84"})


class UnreadableFileError(InvalidInputError):
    """A file of points that cannot be read as GeoParquet points."""


def count_incidents(session: Session) -> int:
    """How many stored incidents have a point."""
    return session.scalar(select(func.count()).select_from(Incident)
                          .where(Incident.geom.is_not(None))) or 0


def incident_batches(session: Session, size: int) -> Iterator[Points]:
    """The stored incidents with a point, `size` at a time in id order, with their codes."""
    after = 0
    while True:
        rows = session.execute(READ_BATCH, {"after": after, "size": size}).all()
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        before = tuple(np.array(columns[3 + k], dtype=object) for k in range(len(FIELDS)))
        yield Points(np.array(columns[0], dtype=np.int64), np.array(columns[1], dtype=np.float64),
                     np.array(columns[2], dtype=np.float64), before)
        after = int(rows[-1][0])


@dataclass(frozen=True)
class PointFile:
    """A GeoParquet file of points: its geometry column, row count, and the transform of its
    coordinates into storage (None: taken as they are)."""

    path: Path
    geometry: str
    rows: int
    to_storage: Transformer | None

    @classmethod
    def open(cls, path: Path) -> PointFile:
        """Check that `path` is GeoParquet with a WKB point geometry column."""
        if not path.is_file():
            raise UnreadableFileError(f"no such file: {path}")
        try:
            meta = pq.read_metadata(path)
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableFileError(f"{path} is not a Parquet file: {exc}") from exc
        geo = json.loads((meta.metadata or {}).get(b"geo", b"null") or "null")
        if not geo or not geo.get("primary_column"):
            raise UnreadableFileError(f"{path} has no point geometry (no GeoParquet 'geo' "
                                      "metadata naming a geometry column)")
        name = geo["primary_column"]
        column = geo.get("columns", {}).get(name, {})
        if column.get("encoding", "WKB").upper() != "WKB":
            raise UnreadableFileError(f"{path}: geometry encoding {column.get('encoding')!r} "
                                      "is not read; write WKB")
        kinds = set(column.get("geometry_types") or [])
        if kinds - {"Point", "Point Z"}:
            raise UnreadableFileError(f"{path} holds {', '.join(sorted(kinds))}, not points")
        return cls(path, name, meta.num_rows, _to_storage(column.get("crs", "OGC:CRS84")))

    def batches(self, size: int) -> Iterator[tuple[Points, pa.RecordBatch]]:
        """The points `size` at a time (ids: an integer `id` column, else the row number), each
        with its record batch (the file's other columns, for the output). A file with the
        code columns relocate writes (`town_code`, …) is compared with them, as stored
        incidents are; otherwise every point counts as changed."""
        first = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=size):
            points = shapely.from_wkb(batch.column(self.geometry).to_numpy(zero_copy_only=False))
            kinds = shapely.get_type_id(points)
            if ((kinds != 0) & ~shapely.is_missing(points)).any():
                raise UnreadableFileError(f"{self.path} holds geometries that are not points")
            lon, lat = shapely.get_x(points), shapely.get_y(points)
            if self.to_storage is not None:
                lon, lat = self.to_storage.transform(lon, lat)
            names = batch.schema.names
            integer_ids = "id" in names and pa.types.is_integer(batch.schema.field("id").type)
            ids = (batch.column("id").to_numpy(zero_copy_only=False).astype(np.int64)
                   if integer_ids else np.arange(first, first + batch.num_rows, dtype=np.int64))
            first += batch.num_rows
            before = (tuple(np.array([key(v) for v in batch.column(column).to_pylist()],
                                     dtype=object) for _, column in BOUNDARY_FIELDS)
                      if {c for _, c in BOUNDARY_FIELDS} <= set(names) else None)
            yield Points(ids, np.asarray(lon, np.float64), np.asarray(lat, np.float64),
                         before), batch


def _to_storage(crs: Any) -> Transformer | None:
    """The transform into storage coordinates, None when they are taken as they are."""
    if crs is None:
        return None  # GeoParquet: an explicit null is an undefined CRS (taken as lon/lat)
    source = CRS.from_user_input(crs)
    authority = source.to_authority()
    if authority is not None and ":".join(authority) in AS_STORED:
        return None
    return Transformer.from_crs(source, CRS.from_epsg(STORAGE_SRID), always_xy=True)
