"""The intake's hot-path SQL, run on the driver connection as prepared statements: one round
trip finds possible duplicates, one stores the incident with its history and links.

Building these statements with SQLAlchemy's expression language cost more Python time than
the database spent running them (measured: ~1.2 ms of 6 ms per report), so the two queries
live in `sql/` and psycopg prepares them once per connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from psycopg import Connection
from psycopg.types.json import Jsonb
from sqlalchemy.orm import Session

from gis_service.incidents.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident

SQL = Path(__file__).resolve().parent / "sql"
COLUMNS = tuple(c.key for c in Incident.__table__.columns if c.key != "geom")
STORE_NEW = (SQL / "store_new.sql").read_text(encoding="utf-8").format(
    columns=", ".join(COLUMNS), values=", ".join(f"%({c})s" for c in COLUMNS))
DUPLICATES = (SQL / "possible_duplicates.sql").read_text(encoding="utf-8")
OPEN = sorted(OPEN_STATES)
EVENT_TEXT = ("actor", "action", "note", "prev_hash", "hash")
EVENT_JSON = ("before", "after", "detail")


def _driver(session: Session) -> Connection[Any]:
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, Connection)
    return connection


def possible_duplicates(session: Session, *, category: str, lon: float, lat: float,
                        since: datetime, radius_m: float, exclude: int) -> list[int]:
    """Open incidents of the same category within `radius_m` reported since `since`."""
    degrees = radius_m / 100_000  # generous: a degree is >= 100 km in China's latitudes
    with _driver(session).cursor() as cursor:
        cursor.execute(DUPLICATES, {"category": category, "since": since, "open_states": OPEN,
                                    "exclude": exclude, "lon": lon, "lat": lat,
                                    "degrees": degrees, "radius_m": radius_m}, prepare=True)
        return [row[0] for row in cursor.fetchall()]


def store_new(session: Session, incident: Incident, events: Sequence[dict[str, Any]],
              duplicates: Sequence[int]) -> bool:
    """Write a new incident, its history rows and duplicate links; False (nothing written)
    when its (source, external_id) is stored already."""
    params: dict[str, Any] = {c: getattr(incident, c) for c in COLUMNS}
    params["candidates"] = None if incident.candidates is None else Jsonb(incident.candidates)
    params["e_seq"] = [e["seq"] for e in events]
    params["e_at"] = [e["at"] for e in events]
    for name in EVENT_TEXT:
        params[f"e_{name}"] = [e[name] for e in events]
    for name in EVENT_JSON:
        params[f"e_{name}"] = [orjson.dumps(e[name]).decode() for e in events]
    params["duplicates"] = list(duplicates)
    with _driver(session).cursor() as cursor:
        cursor.execute(STORE_NEW, params, prepare=True)
        return cursor.fetchone() is not None
