"""The intake's hot-path SQL, run on the driver connection as prepared statements: one round
trip finds the possible duplicates of every report of a batch, one stores them all with their
history and links. A batch's camera events add two: the lock on their (camera, scene) pairs
with what they name and the open incidents they may fold into (three statements, one round
trip), and the folds written.

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

import orjson
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from gis_service import sql_files
from gis_service.incidents.core.case import EventRow
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.sql_files import driver, for_driver

SQL = Path(__file__).resolve().parent / "sql"
COLUMNS = tuple(c.key for c in Incident.__table__.columns if c.key != "geom")
_TYPES = {c.key: c.type.compile(dialect=postgresql.dialect())
          for c in Incident.__table__.columns}
# history rows as both statements write them, from the model like the incident's columns
_HISTORY = tuple(c for c in IncidentEvent.__table__.columns if c.key != "id")
HISTORY_ROWS = {
    "history_columns": ", ".join(c.key for c in _HISTORY),
    "history_values": ", ".join(f"e.{c.key}" for c in _HISTORY),
    "history_typed": ", ".join(f"{c.key} {c.type.compile(dialect=postgresql.dialect())}"
                               for c in _HISTORY)}
STORE_MANY = for_driver(sql_files.load(
    SQL, "store_many", columns=", ".join(COLUMNS),
    typed_columns=", ".join(f"{c} {_TYPES[c]}" for c in COLUMNS), **HISTORY_ROWS))
DUPLICATES = for_driver(sql_files.load(SQL, "possible_duplicates_many"))
# camera events (incidents/video.py): the pairs' lock, what the events name, the incidents
# they may fold into, and the folds written
_CHANGED = tuple(c for c in COLUMNS if c != "id")
LOCK_PAIRS = for_driver(text("SELECT pg_advisory_xact_lock(:space, k) "
                             "FROM unnest(CAST(:keys AS int[])) AS k"))
CAMERA_EVENTS = for_driver(sql_files.load(SQL, "camera_events"))
OPEN_FOR_FOLD = for_driver(sql_files.load(SQL, "open_for_fold", columns=", ".join(COLUMNS)))
FOLD_MANY = for_driver(sql_files.load(
    SQL, "fold_many", columns=", ".join(_CHANGED),
    values=", ".join(f"r.{c}" for c in _CHANGED),
    typed_columns=", ".join(f"{c} {_TYPES[c]}" for c in COLUMNS), **HISTORY_ROWS))


@dataclass(frozen=True)
class Nearby:
    """Where a new report is, to look for possible duplicates of it."""

    category: str
    lon: float
    lat: float
    since: datetime


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
    with driver(session).cursor() as cursor:
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
    with driver(session).cursor() as cursor:
        cursor.execute(STORE_MANY, params, prepare=True)
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class Named:
    """What a batch's camera events name: cameras (code -> code, name, lon, lat, lens
    direction), scene rows (scene -> its columns), external ids taken before (-> the incident
    that took it), and the open incidents they may fold into (oldest first, row-locked, apart
    from the session: `fold_many` writes them back)."""

    cameras: dict[str, tuple[str, str, float, float, float | None]]
    scenes: dict[str, tuple[str, str, float, int, bool]]
    taken: dict[str, int]
    open: list[Incident]


def lock_and_read(session: Session, *, space: int, keys: Sequence[int],
                  pairs: Sequence[tuple[str, str]], external_ids: Sequence[str],
                  since: datetime) -> Named:
    """Take the (camera, scene) pairs' advisory locks (in the order given), then read what the
    events name and the open incidents of those pairs last seen since `since`: three
    statements sent in one round trip (a pipeline). Each statement sees what was committed
    before it began, so the reads see what the locks' earlier holders wrote."""
    connection = driver(session)
    with connection.pipeline(), connection.cursor() as locking, \
            connection.cursor() as naming, connection.cursor() as opening:
        locking.execute(LOCK_PAIRS, {"space": space, "keys": list(keys)}, prepare=True)
        naming.execute(CAMERA_EVENTS, {"codes": sorted({c for c, _ in pairs}),
                                       "scenes": sorted({s for _, s in pairs}),
                                       "external_ids": list(external_ids)}, prepare=True)
        opening.execute(OPEN_FOR_FOLD, {"cameras": [c for c, _ in pairs],
                                        "scenes": [s for _, s in pairs],
                                        "since": since}, prepare=True)
        row = naming.fetchone()
        rows = opening.fetchall()
    assert row is not None
    return Named({c[0]: (c[0], c[1], float(c[2]), float(c[3]), c[4]) for c in row[0]},
                 {s[0]: (s[0], s[1], float(s[2]), int(s[3]), bool(s[4])) for s in row[1]},
                 {external_id: int(incident_id) for external_id, incident_id in row[2]},
                 [Incident(**dict(zip(COLUMNS, r, strict=True))) for r in rows])


def fold_many(session: Session, incidents: Sequence[Incident], events: Sequence[EventRow],
              folded: Sequence[tuple[str, int, datetime]]) -> None:
    """Write back stored incidents detections folded into, with their new history rows, and
    keep the folded detections' external ids (id, incident, when)."""
    params = {
        "incidents": orjson.dumps([{c: getattr(i, c) for c in COLUMNS}
                                   for i in incidents]).decode(),
        "events": orjson.dumps(events).decode(),
        "folded": orjson.dumps([{"external_id": e, "incident_id": i, "at": at}
                                for e, i, at in folded]).decode()}
    with driver(session).cursor() as cursor:
        cursor.execute(FOLD_MANY, params, prepare=True)
