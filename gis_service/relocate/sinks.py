"""Where re-attributed batches go: back into the incidents table (only the changed rows, a
batch per transaction, the open ones' history as a publication writes it), or into a GeoParquet
file (every point with its new codes, written batch by batch)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service import locks, sql_files
from gis_service.errors import ConflictError
from gis_service.grids.queries import version_ids_at
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.placing import BOUNDARY_FIELDS
from gis_service.plans.publish import RegridCause, settle_open
from gis_service.relocate.attribution import FIELDS, LIST_SEPARATOR, Attributed

WRITE_CODES = sql_files.load(Path(__file__).parent / "sql", "write_codes")
COLUMNS = dict(BOUNDARY_FIELDS)  # field -> incident column, as the output names them too
GEOMETRY = "geometry"
OUTPUT_CRS = CRS.from_epsg(4326)  # storage lon/lat (CGCS2000) written unchanged, see sources


@dataclass(frozen=True)
class Written:
    """What one batch's write changed."""

    incidents: int
    open_settled: int


class IncidentWriter:
    """Writes changed codes back, a batch per transaction, while the boundaries valid at `at`
    stay the ones the run located against (a publication meanwhile stops it)."""

    def __init__(self, session: Session, *, at: datetime, versions: tuple[int, ...],
                 actor: str, now: datetime) -> None:
        self.session, self.at, self.actor, self.now = session, at, actor, now
        self.versions = versions  # the grid versions the run locates against
        self.cause = RegridCause({"relocated_to": at.isoformat()},
                                 f"网格重新归属(按 {at.isoformat()} 的边界):")

    def write(self, batch: Attributed) -> Written:
        """Store a batch's changed rows and commit; the open ones get a history row."""
        if not len(batch.ids):
            return Written(0, 0)
        session = self.session
        # one boundary change at a time: a publication waits for this batch, or this batch
        # for it, and then sees that the boundaries it located against are gone
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": locks.BOUNDARIES})
        if version_ids_at(session, self.at) != self.versions:
            session.rollback()
            raise ConflictError(f"the boundaries valid at {self.at.isoformat()} changed during "
                                "the run (a publication or an import): run it again")
        special = [LIST_SEPARATOR.join(codes) for codes in batch.codes("special")]
        rows = session.execute(WRITE_CODES, {
            "ids": batch.ids.tolist(), "lon": batch.lon.tolist(), "lat": batch.lat.tolist(),
            **{field: batch.codes(field) for field in FIELDS if field != "special"},
            "special": special}).mappings().all()
        open_rows = sorted((dict(row) for row in rows if row["status"] in OPEN_STATES),
                           key=lambda row: int(row["id"]))
        settled = settle_open(session, open_rows, policy="keep", actor=self.actor, now=self.now,
                              cause=self.cause)
        session.commit()
        return Written(len(rows), sum(settled.values()))


def geo_metadata(geometry_types: Sequence[str] = ("Point",)) -> bytes:
    """GeoParquet 1.1 metadata for one WKB geometry column in EPSG:4326 lon/lat."""
    return json.dumps({
        "version": "1.1.0", "primary_column": GEOMETRY,
        "columns": {GEOMETRY: {"encoding": "WKB", "geometry_types": list(geometry_types),
                               "crs": OUTPUT_CRS.to_json_dict()}}}).encode()


class ParquetWriter:
    """Every point of every batch with its new codes and whether they changed into one
    GeoParquet file, with the incident's id (stored incidents) or the file's own columns; the
    geometry is the point in storage lon/lat (a file in another CRS comes out transformed)."""

    def __init__(self, path: Path, *, replaced: str | None = None) -> None:
        self.path = path
        self.replaced = replaced  # a file's geometry column, written anew
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, batch: Attributed, source: pa.RecordBatch | None = None) -> None:
        """Append a batch (with the record batch it was read from, for a file's columns)."""
        table = self._table(batch, source)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema.with_metadata(
                {b"geo": geo_metadata()}))
        self._writer.write_table(table.replace_schema_metadata(self._writer.schema.metadata))
        self.rows += table.num_rows

    def close(self) -> None:
        """Finish the file (an empty one when no batch came)."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self._schema().with_metadata(
                {b"geo": geo_metadata()}))
        self._writer.close()

    def _table(self, batch: Attributed, source: pa.RecordBatch | None) -> pa.Table:
        codes = {COLUMNS[field]: pa.array(batch.codes(field), _type(field)) for field in FIELDS}
        geometry = pa.array(shapely.to_wkb(shapely.points(batch.lon, batch.lat)), pa.binary())
        if source is None:
            return pa.table({"id": pa.array(batch.ids, pa.int64()),
                             "changed": pa.array(batch.changed, pa.bool_()), **codes,
                             GEOMETRY: geometry}, schema=self._schema())
        kept = {name: source.column(name) for name in source.schema.names
                if name not in codes and name not in ("changed", GEOMETRY, self.replaced)}
        return pa.table({**kept, "changed": pa.array(batch.changed, pa.bool_()), **codes,
                         GEOMETRY: geometry})

    @staticmethod
    def _schema() -> pa.Schema:
        return pa.schema([("id", pa.int64()), ("changed", pa.bool_()),
                          *((COLUMNS[field], _type(field)) for field in FIELDS),
                          (GEOMETRY, pa.binary())])


def _type(field: str) -> pa.DataType:
    return pa.list_(pa.string()) if field == "special" else pa.string()
