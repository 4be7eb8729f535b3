"""The intake's hot-path SQL, run on the driver connection as prepared statements: one round
trip finds the possible duplicates of every report of a batch, one stores them all with their
history and links.

Building these statements with SQLAlchemy's expression language cost more Python time than
the database spent running them (measured: ~1.2 ms of 6 ms per report), so the two queries
live in `sql/` and psycopg prepares them once per connection. Rows travel as JSON arrays
(`jsonb_to_recordset`): one parameter whatever the batch's size, so one prepared plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from psycopg import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from gis_service import sql_files
from gis_service.incidents.core.case import EventRow
from gis_service.incidents.models import Incident
from gis_service.sql_files import for_driver

SQL = Path(__file__).resolve().parent / "sql"
COLUMNS = tuple(c.key for c in Incident.__table__.columns if c.key != "geom")
_TYPES = {c.key: c.type.compile(dialect=postgresql.dialect())
          for c in Incident.__table__.columns}
STORE_MANY = for_driver(sql_files.load(
    SQL, "store_many", columns=", ".join(COLUMNS),
    typed_columns=", ".join(f"{c} {_TYPES[c]}" for c in COLUMNS)))
DUPLICATES = for_driver(sql_files.load(SQL, "possible_duplicates_many"))


@dataclass(frozen=True)
class Nearby:
    """Where a new report is, to look for possible duplicates of it."""

    category: str
    lon: float
    lat: float
    since: datetime


def _driver(session: Session) -> Connection[Any]:
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, Connection)
    return connection


def possible_duplicates(session: Session, reports: Sequence[Nearby],
                        radius_m: float) -> list[list[int]]:
    """For each report, the open incidents of its category within `radius_m` reported since
    its `since` (at most ten each, by id)."""
    found: list[list[int]] = [[] for _ in reports]
    if not reports:
        return found
    degrees = radius_m / 100_000  # generous: a degree is >= 100 km in China's latitudes
    params = {"i": list(range(len(reports))), "category": [r.category for r in reports],
              "lon": [r.lon for r in reports], "lat": [r.lat for r in reports],
              "since": [r.since for r in reports], "degrees": degrees, "radius_m": radius_m}
    with _driver(session).cursor() as cursor:
        cursor.execute(DUPLICATES, params, prepare=True)
        for index, other in cursor.fetchall():
            found[index].append(other)
    return found


def store_many(session: Session, incidents: Sequence[Incident],
               events: Sequence[EventRow], links: Sequence[tuple[int, int, bool]]
               ) -> set[int]:
    """Write new incidents, their history rows and possible-duplicate links
    (incident, other, other is one of these); the ids actually stored (a (source, external_id)
    stored already is skipped with its rows)."""
    rows = [{c: getattr(incident, c) for c in COLUMNS} for incident in incidents]
    params = {
        "incidents": orjson.dumps(rows).decode(),
        "events": orjson.dumps(events).decode(),
        "links": orjson.dumps([{"incident_id": a, "other_id": b, "fresh": fresh}
                               for a, b, fresh in links]).decode()}
    with _driver(session).cursor() as cursor:
        cursor.execute(STORE_MANY, params, prepare=True)
        return {row[0] for row in cursor.fetchall()}
