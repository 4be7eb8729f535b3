"""Bulk import of incidents (CSV or JSON lines): every row checked, located and routed as the
online intake would, its history chained, and both tables written with COPY.

Three decisions, because a history file is not a live report:
- A row is taken as if it had arrived at its `reported_at` (the import time when it has none):
  its deadlines count from then and its history rows carry that time. `created_at` and
  `updated_at` say when it was imported. Boundaries, workers, the responsibility list and the
  zone rules are today's: there is no history of who was on duty, so routing cannot be
  replayed as of then.
- Every row needs an `external_id`. (source, external_id) is how a re-run recognises what it
  stored before; a row without one would be stored again on every run, so it is refused.
- A row whose (source, external_id) is already stored, or came earlier in the file, is skipped
  and counted, like a repeated POST. A file with any bad row is rejected whole.

Beyond POST's fields a row may carry what an export knows of the ticket's end: `closed_at`,
`resolution` (service, management or enforcement) and `satisfaction` (1–5); a routed row that
was closed gets the handling steps replayed (`handling.py`). A row with an address and no
coordinates is placed by intake's rule (`gis_service/geocode/placing.py`); one the geocoder
cannot place, or places only at a road's or village's stand-in point, waits in
`needs_location` with its candidates — unless it was closed: a handled ticket keeps that
point, marked approximate in its history.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import orjson
from psycopg import Cursor
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service import sql_files
from gis_service.auth.models import Account
from gis_service.database import STORAGE_SRID
from gis_service.geocode.area import DEFAULT_AREA_NAMES, area_names, service_area
from gis_service.geocode.service import DEFAULT_MIN_CONFIDENCE
from gis_service.imports.handling import closing_events
from gis_service.imports.incident_addresses import Geocoded, geocode_addresses
from gis_service.imports.readers import UnreadableInputError, require_columns
from gis_service.imports.report import ImportReport
from gis_service.incidents.core.assigning import route_new
from gis_service.incidents.core.case import EventRow, next_event
from gis_service.incidents.core.deadlines import on_intake
from gis_service.incidents.core.lifecycle import RESOLUTIONS
from gis_service.incidents.core.routing import Assignment, Rule
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.schemas import IncidentCreate
from gis_service.locate.located import Located
from gis_service.locate.service import load_layers
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.timeutil import aware
from grid_layers import crs as crs_module
from grid_layers.validation import Problem

TEXT_COLUMNS = ("source", "external_id", "category", "description", "address", "reported_at",
                "parent_ticket_id", "county_due_at", "closed_at", "resolution", "satisfaction",
                "reporter")
CSV_COLUMNS = (*TEXT_COLUMNS, "lon", "lat", "crs")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CHUNK = 20_000  # rows per COPY pair: bounds the memory held for history rows
INCIDENT_COLUMNS = (
    "id", "source", "external_id", "category_code", "description", "address", "lon", "lat",
    "geom", "reported_at", "status", "priority", "town_code", "grid2_code", "grid3_code",
    "district_code", "zone_codes", "special_codes", "assignee_type", "assignee_code",
    "cooperating", "escalation_level", "respond_due_at", "due_at", "overdue_since",
    "parent_ticket_id",
    "resolution", "satisfaction", "candidates", "history_head", "history_length", "version",
    "created_at", "updated_at")
EVENT_COLUMNS = ("incident_id", "seq", "at", "actor", "action", "before", "after", "note",
                 "detail", "prev_hash", "hash")
STATUS_COUNTS = {"dispatched": "dispatched", "needs_location": "needing a location",
                 "reported": "of unknown category (left reported)",
                 "closed": "closed (handling replayed)",
                 "not replayed": "closed in the file but not routable here (left open)"}


class HistoryRow(IncidentCreate):
    """A row of a history file: POST's fields and what the export knows of the ticket's end."""

    closed_at: datetime | None = None
    resolution: str | None = Field(default=None, description="service, management or enforcement")
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    reporter: str | None = Field(default=None, max_length=100, description=(
        "who reported (a grid worker's patrol): an account name, or a worker code with an "
        "account; the history's report row is theirs"))

    @model_validator(mode="after")
    def _closing_is_whole(self) -> HistoryRow:
        if self.resolution is not None and self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        if (self.closed_at is None) != (self.resolution is None):
            raise ValueError("closed_at and resolution come together")
        if self.satisfaction is not None and self.closed_at is None:
            raise ValueError("satisfaction needs closed_at")
        opened, closed = aware(self.reported_at), aware(self.closed_at)
        if opened is not None and closed is not None and closed < opened:
            raise ValueError("closed_at is before reported_at")
        return self


def import_incidents(session: Session, path: Path, *, crs: str | None = None,
                     check_only: bool = False, progress: bool = False, actor: str = "import",
                     now: datetime | None = None,
                     min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                     service_area_names: str = DEFAULT_AREA_NAMES,
                     timings: dict[str, float] | None = None) -> ImportReport:
    """Check every row, then store the rows not stored before, located, routed and recorded.

    `crs` is the CRS of rows that name none (default wgs84); `min_confidence` how sure the
    geocoder must be to place an address-only row, `service_area_names` the province, city
    and county above the towns (Settings.service_area_names); `timings`, when given, receives
    the seconds each stage took.
    """
    clock = _Clock(timings)
    default_crs = crs_module.normalize_crs(crs or "wgs84")
    report = ImportReport("incidents", str(path), 0, checked_only=check_only)
    rows = _check(_records(path, default_crs, progress), report)
    reporters = _reporters(session, rows, report)
    clock.lap("read")
    if report.problems or check_only:
        return report
    keep, stored_before, repeated = _new_rows(session, rows)
    rows = rows.take(keep)
    clock.lap("dedupe")
    statuses: Counter[str] = Counter()
    if len(rows):
        now = now or datetime.now(UTC)
        snapshot: LocatorSnapshot[None] = LocatorSnapshot(load_layers(session, now))
        handled = [closed is not None for closed in rows.closed_at]
        geocoded = geocode_addresses(session, rows.address, rows.lon, rows.lat, rows.crs,
                                     handled=handled, min_confidence=min_confidence,
                                     area=service_area(snapshot, area_names(service_area_names)),
                                     progress=progress)
        clock.lap("geocode")
        places = _Places.locate(snapshot, rows)
        routing = _Routing(session)
        clock.lap("locate")
        statuses = _store(session, rows, places, routing,
                          _Stamp(actor, now, geocoded, reporters), progress)
        clock.lap("store")
    report.counts = {"stored": len(rows)}
    report.counts |= {STATUS_COUNTS[s]: n for s, n in sorted(statuses.items())}
    report.counts |= {k: n for k, n in (("already stored", stored_before),
                                        ("repeated in the file", repeated)) if n}
    return report


class _Clock:
    """Seconds per stage, for the benchmark."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        moment = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = moment - self.last
        self.last = moment


# --- reading and checking ---------------------------------------------------------------------

Record = dict[str, Any] | str  # the fields of a row, or why the reader could not use it


def _records(path: Path, default_crs: str, progress: bool) -> Iterator[tuple[int, Record]]:
    """(line number, record) of every row, read as CSV or JSON lines by the file's suffix."""
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", *JSON_SUFFIXES):
        raise UnreadableInputError(f"{path}: incidents come as .csv or .jsonl (JSON lines)")
    reader = _csv_records if suffix == ".csv" else _json_records
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            yield from tqdm(reader(path, handle, default_crs), desc="checking", unit="row",
                            disable=not progress, mininterval=0.5)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnreadableInputError(f"{path}: not a UTF-8 {suffix[1:]} file ({exc})") from exc


class _CsvLayout(NamedTuple):
    """Where a CSV file keeps each field."""

    width: int
    text_at: list[tuple[str, int]]
    lon_at: int | None
    lat_at: int | None
    crs_at: int | None

    @classmethod
    def of(cls, path: Path, header: list[str]) -> _CsvLayout:
        """The layout of a header; UnreadableInputError when it lacks `source` or has a column
        an incident does not (POST refuses unknown fields too)."""
        require_columns(path, set(header), ("source",))
        unknown = sorted(set(header) - set(CSV_COLUMNS))
        if unknown:
            raise UnreadableInputError(f"{path}: unknown column(s) {', '.join(unknown)}; an "
                                       f"incident row has {', '.join(CSV_COLUMNS)}")
        at = {name: i for i, name in enumerate(header)}
        return cls(len(header), [(name, at[name]) for name in TEXT_COLUMNS if name in at],
                   at.get("lon"), at.get("lat"), at.get("crs"))


def _csv_records(path: Path, handle: Any, default_crs: str) -> Iterator[tuple[int, Record]]:
    reader = csv.reader(handle)
    layout = _CsvLayout.of(path, [name.strip() for name in next(reader, [])])
    start = reader.line_num + 1
    for values in reader:
        if len(values) > layout.width:
            yield start, f"{len(values)} fields but the header names {layout.width}"
        elif "\x00" in "".join(values):
            yield start, "a field holds a NUL character"
        elif any(values):
            values += [""] * (layout.width - len(values))
            yield start, _csv_body(values, layout, default_crs)
        start = reader.line_num + 1  # a quoted field may span lines


def _csv_body(values: list[str], layout: _CsvLayout, default_crs: str) -> dict[str, Any]:
    """The IncidentCreate fields of a CSV row: empty cells are absent, lon/lat a location."""
    body: dict[str, Any] = {}
    for name, i in layout.text_at:
        value = values[i].strip()
        if value:
            body[name] = value
    lon = values[layout.lon_at].strip() if layout.lon_at is not None else ""
    lat = values[layout.lat_at].strip() if layout.lat_at is not None else ""
    if lon or lat:
        crs = values[layout.crs_at].strip() if layout.crs_at is not None else ""
        body["location"] = {"lon": lon or None, "lat": lat or None, "crs": crs or default_crs}
    return body


def _json_records(path: Path, handle: Any, default_crs: str) -> Iterator[tuple[int, Record]]:
    for line, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield line, f"not JSON ({exc})"
            continue
        if not isinstance(body, dict):
            yield line, "not a JSON object"
        elif "\\u0000" in raw and any("\x00" in v for v in body.values() if isinstance(v, str)):
            yield line, "a field holds a NUL character"
        else:
            yield line, _json_body(body, default_crs)


def _json_body(body: dict[str, Any], default_crs: str) -> dict[str, Any]:
    """An incident object with its location nested (flat lon/lat/crs are accepted too)."""
    if "location" not in body and ("lon" in body or "lat" in body):
        flat = {k: body.pop(k) for k in ("lon", "lat", "crs") if k in body}
        if flat.get("lon") is not None or flat.get("lat") is not None:
            body["location"] = {"lon": None, "lat": None, **flat}
    location = body.get("location")
    if isinstance(location, dict) and location.get("crs") is None:
        location["crs"] = default_crs
    return body


@dataclass
class _Rows:
    """Valid rows column by column (a million row objects would cost far more memory)."""

    line: list[int]
    source: list[str]
    external_id: list[str]
    category: list[str | None]
    description: list[str]
    address: list[str | None]
    parent_ticket_id: list[str | None]
    reported_at: list[datetime | None]
    county_due_at: list[datetime | None]
    closed_at: list[datetime | None]
    resolution: list[str | None]
    satisfaction: list[int | None]
    reporter: list[str | None]
    lon: list[float]  # NaN: no location
    lat: list[float]
    crs: list[str]  # canonical name ("" without a location)

    @classmethod
    def of(cls, rows: list[tuple[Any, ...]]) -> _Rows:
        """Columns of rows given as tuples in field order."""
        columns = zip(*rows, strict=True) if rows else [()] * len(fields(cls))
        return cls(*(list(column) for column in columns))

    def __len__(self) -> int:
        return len(self.line)

    def take(self, keep: list[int]) -> _Rows:
        """The rows at the given positions."""
        return _Rows(*([column[i] for i in keep] for column in vars(self).values()))


def _row(line: int, body: HistoryRow, crs: str) -> tuple[Any, ...]:
    """A validated row in `_Rows` field order."""
    where = body.location
    return (line, body.source, body.external_id or "", body.category, body.description,
            body.address, body.parent_ticket_id, body.reported_at, body.county_due_at,
            body.closed_at, body.resolution, body.satisfaction, body.reporter,
            where.lon if where else np.nan, where.lat if where else np.nan, crs)


def _check(records: Iterator[tuple[int, Record]], report: ImportReport) -> _Rows:
    """Validate every record as the online intake does; problems go to the report."""
    valid = []
    crs_names: dict[str, str | None] = {}
    for line, record in records:
        report.rows += 1
        if isinstance(record, str):
            report.problems.append(_bad(line, record))
            continue
        try:
            body = HistoryRow.model_validate(record)
        except ValidationError as exc:
            report.problems.append(_bad(line, _reasons(exc)))
            continue
        crs = _crs_of(body, crs_names)
        reason = _refusal(body, crs)
        if reason:
            report.problems.append(_bad(line, reason))
        else:
            valid.append(_row(line, body, crs or ""))
    return _Rows.of(valid)


def _reporters(session: Session, rows: _Rows, report: ImportReport) -> dict[str, str]:
    """The account each row's `reporter` names (an account name, or the worker code of an
    account); a reporter no account answers to is a problem of its rows."""
    named = {r for r in rows.reporter if r}
    if not named:
        return {}
    found: dict[str, str] = {}
    for username, worker in session.execute(
            select(Account.username, Account.worker_code)
            .where(or_(Account.username.in_(named), Account.worker_code.in_(named)))
            .order_by(Account.id)):
        if worker in named:
            found.setdefault(worker, username)
        if username in named:
            found[username] = username  # an account's own name wins over a worker code
    for line, reporter in zip(rows.line, rows.reporter, strict=True):
        if reporter and reporter not in found:
            report.problems.append(_bad(line, f"reporter {reporter!r}: no account of that "
                                              "name or worker code"))
    return found


def _crs_of(body: HistoryRow, known: dict[str, str | None]) -> str | None:
    """The canonical name of the row's CRS (None when unknown; "" without a location)."""
    if body.location is None:
        return ""
    name = body.location.crs
    if name not in known:
        try:
            known[name] = crs_module.normalize_crs(name)
        except crs_module.UnknownCRSError:
            known[name] = None
    return known[name]


def _refusal(body: HistoryRow, crs: str | None) -> str | None:
    """Why a schema-valid row still cannot be imported, or None."""
    if not body.external_id:
        return "external_id is required: without it a re-run would store the row again"
    if body.camera_code is not None:
        return ("a camera's event (camera_code, scene) is taken by POST /api/v1/incidents, "
                "where its repeats fold into one incident; a history row gives its category "
                "and location instead")
    if crs is None:
        assert body.location is not None
        return str(crs_module.UnknownCRSError(body.location.crs))
    return None


def _reasons(exc: ValidationError) -> str:
    """Pydantic's errors in one line, named as the file names the fields."""
    parts = []
    for error in exc.errors(include_url=False):
        names = [str(part) for part in error["loc"] if part != "location"]
        given = error.get("input")
        shown = "" if given is None or isinstance(given, dict) else f" (got {given!r:.60})"
        parts.append(f"{'.'.join(names) or 'row'}: {error['msg']}{shown}")
    return "; ".join(parts)


def _bad(line: int, reason: str) -> Problem:
    return Problem("invalid_attribute", (f"line {line}",), 0.0, None, f"line {line}: {reason}")


# --- what is new --------------------------------------------------------------------------------

EXISTING = text(
    "SELECT i.source, i.external_id FROM incident i "
    "JOIN unnest(CAST(:sources AS text[]), CAST(:external_ids AS text[])) AS f(source, ext) "
    "ON i.source = f.source AND i.external_id = f.ext")


def _new_rows(session: Session, rows: _Rows) -> tuple[list[int], int, int]:
    """Positions of the rows to store, and how many were stored before or repeat the file."""
    first: dict[tuple[str, str], int] = {}
    for i, key in enumerate(zip(rows.source, rows.external_id, strict=True)):
        first.setdefault(key, i)
    repeated = len(rows) - len(first)
    keys = list(first)
    found = session.execute(EXISTING, {"sources": [k[0] for k in keys],
                                       "external_ids": [k[1] for k in keys]})
    stored = {(source, external_id) for source, external_id in found}
    keep = [i for key, i in first.items() if key not in stored]
    return keep, len(first) - len(keep), repeated


# --- where and to whom ------------------------------------------------------------------------

class _Place(NamedTuple):
    """The codes `place` copies from where a row falls (code lists as array literals)."""

    town: str | None
    grid2: str | None
    grid3: str | None
    district: str | None
    zones: str
    special: str


NOWHERE = _Place(None, None, None, None, "{}", "{}")


def _array(codes: Iterable[str]) -> str:
    """A text[] literal: psycopg's list dumpers are Python code, a literal is written as is."""
    quoted = (code.replace("\\", "\\\\").replace('"', '\\"') for code in codes)
    return "{" + ",".join(f'"{code}"' for code in quoted) + "}"


@dataclass
class _Places:
    """Storage coordinates of every row and where they fall (None: no location)."""

    lon: list[float | None]
    lat: list[float | None]
    geom: list[str | None]  # hex EWKB
    located: list[Located | None]

    @classmethod
    def locate(cls, snapshot: LocatorSnapshot[None], rows: _Rows) -> _Places:
        """Convert every point to storage coordinates and locate them all at once."""
        lon, lat = np.array(rows.lon, dtype=np.float64), np.array(rows.lat, dtype=np.float64)
        crs = np.array(rows.crs, dtype=object)
        for name in set(rows.crs) - {"", "wgs84", "cgcs2000"}:
            mask = crs == name
            lon[mask], lat[mask] = crs_module.to_storage(lon[mask], lat[mask], name)
        placed = np.flatnonzero(~np.isnan(lon))
        geom: list[str | None] = [None] * len(rows)
        located: list[Located | None] = [None] * len(rows)
        answers = snapshot.where_many(lon[placed], lat[placed])
        hexes = _ewkb_hex(lon[placed], lat[placed])
        for i, answer, wkb in zip(placed.tolist(), answers, hexes, strict=True):
            located[i], geom[i] = answer, wkb
        return cls(_floats(lon), _floats(lat), geom, located)


EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"),
                       ("y", "<f8")])


def _ewkb_hex(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """Hex EWKB of storage points, all built at once (shapely takes microseconds a point)."""
    points = np.empty(len(lon), dtype=EWKB_POINT)
    points["order"] = 1  # little-endian
    points["type"] = 0x20000001  # a point, with an SRID
    points["srid"] = STORAGE_SRID
    points["x"], points["y"] = lon, lat
    digits = points.tobytes().hex()
    size = 2 * EWKB_POINT.itemsize
    return [digits[i:i + size] for i in range(0, len(digits), size)]


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN -> None


class _Routing:
    """What intake routes by (the routing book: rules, zone rules, every post), read once,
    and what depends only on the place, worked out once per place (points in the same areas
    share one `Located`)."""

    def __init__(self, session: Session) -> None:
        self.book = load_routing_book(session)
        self._routes: dict[tuple[str, int], Assignment] = {}
        self._places: dict[int, _Place] = {}
        self._arrays: dict[tuple[str, ...], str] = {}

    def place(self, located: Located) -> _Place:
        """The codes of a place, code lists as array literals."""
        found = self._places.get(id(located))
        if found is None:
            found = _Place(located.town, located.grid2, located.grid3, located.district,
                           _array(located.zones), _array(located.special))
            self._places[id(located)] = found
        return found

    def route(self, rule: Rule, located: Located) -> Assignment:
        """The book's handler for a category at a place."""
        key = (rule.code, id(located))
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self.book.handler(located, rule)
        return found

    def array(self, codes: list[str]) -> str:
        """The array literal of a list of codes (there are few distinct lists)."""
        key = tuple(codes)
        found = self._arrays.get(key)
        if found is None:
            found = self._arrays[key] = _array(codes)
        return found


# --- what intake would have made ----------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """A new incident as the rules see it (`core.case.Case`), without the ORM: the import
    replays intake's rules on it without building a million ORM objects."""

    id: int
    category_code: str | None
    status: str
    due_at: datetime | None
    grid3_code: str | None
    lon: float | None
    lat: float | None
    assignee_type: str | None = None
    assignee_code: str | None = None
    cooperating: list[str] = field(default_factory=list)
    respond_due_at: datetime | None = None
    overdue_since: datetime | None = None
    priority: int = 0
    escalation_level: int = 0
    resolution: str | None = None
    satisfaction: int | None = None
    version: int = 1
    history_head: str = ""
    history_length: int = 0


@dataclass(frozen=True)
class _Stamp:
    """Who imports, when, and what the geocoder made of address-only rows."""

    actor: str
    now: datetime
    geocoded: Geocoded
    reporters: dict[str, str]  # a row's `reporter` -> the account its report row names


def _history(draft: _Draft, located: Located | None, routing: _Routing, at: datetime,
             county_due: datetime | None, report: dict[str, Any],
             actor: str) -> list[EventRow]:
    """Route a new incident as intake does at moment `at`: its history rows, hash-chained."""
    events = [next_event(draft, actor=actor, action="report", at=at, before={}, detail=report)]
    return events + route_new(routing.book, draft, located, at, county_due, routing.route)


def _event_row(event: EventRow) -> tuple[Any, ...]:
    """A history row as COPY takes it (JSON as text)."""
    return (event["incident_id"], event["seq"], event["at"], event["actor"], event["action"],
            _json(event["before"]), _json(event["after"]), event["note"],
            _json(event["detail"]), event["prev_hash"], event["hash"])


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def _json_list(value: list[dict[str, Any]]) -> str:
    return orjson.dumps(value).decode()


# --- writing ----------------------------------------------------------------------------------

NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('incident', 'id')) "
                "FROM generate_series(1, :n)")
INCIDENT_COPY = f"COPY incident ({', '.join(INCIDENT_COLUMNS)}) FROM STDIN"
EVENT_COPY = f"COPY incident_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN"


def _store(session: Session, rows: _Rows, places: _Places, routing: _Routing, stamp: _Stamp,
           progress: bool) -> Counter[str]:
    """Write the incidents and their history, a chunk of rows at a time; statuses stored."""
    connection = sql_files.driver(session)
    statuses: Counter[str] = Counter()
    with tqdm(total=len(rows), desc="storing", unit="row", disable=not progress) as bar, \
            connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            stop = min(start + CHUNK, len(rows))
            ids = session.execute(NEXT_IDS, {"n": stop - start}).scalars().all()
            events: list[tuple[Any, ...]] = []
            # history rows are worked out (and their JSON written) while the server takes in
            # the incidents: measured faster than writing the JSON during their own COPY
            with cursor.copy(INCIDENT_COPY) as copy:
                for i, incident_id in zip(range(start, stop), ids, strict=True):
                    copy.write_row(_incident_row(i, incident_id, rows, places, routing, stamp,
                                                 events, statuses))
            _keep_statistics_honest(session, stop)
            _copy_events(cursor, events)
            bar.update(stop - start)
    if len(rows) >= ANALYZE_AFTER:
        # a big load changes what the tables hold (statuses, closures) faster than autovacuum
        # notices: planned from the old statistics, the wall's closures per month took 3 s
        # instead of 10 ms after the demo's load (BENCHMARKS.md, the wall)
        session.execute(text("ANALYZE incident, incident_event"))
    return statuses


ANALYZE_AFTER = 1_000  # rows stored by one import beyond which its tables are analysed

# The planner's row estimate for `incident` as it would make it now (none when the table was
# never analysed: the planner then estimates from its size, which is right).
PLANNER_ROWS = text(
    "SELECT reltuples / greatest(relpages, 1) "
    "* (pg_relation_size(oid) / current_setting('block_size')::int) "
    "FROM pg_class WHERE oid = CAST('incident' AS regclass) AND reltuples >= 0")


def _keep_statistics_honest(session: Session, stored: int) -> None:
    """ANALYZE `incident` when the planner would think it far smaller than what is stored."""
    # Every history row's foreign-key check is planned from these statistics. An autovacuum
    # ANALYZE that ran while this transaction's rows were invisible to it records "no rows"
    # over many pages; each check then scans a whole index and the import turns quadratic.
    # An ANALYZE in this transaction counts its own rows (and re-plans the checks).
    believed = session.scalar(PLANNER_ROWS)
    if believed is not None and believed < stored / 2:
        session.execute(text("ANALYZE incident"))


def _copy_events(cursor: Cursor[Any], events: list[tuple[Any, ...]]) -> None:
    with cursor.copy(EVENT_COPY) as copy:
        for event in events:
            copy.write_row(event)


def _incident_row(i: int, incident_id: int, rows: _Rows, places: _Places, routing: _Routing,
                  stamp: _Stamp, events: list[tuple[Any, ...]],
                  statuses: Counter[str]) -> tuple[Any, ...]:
    """The incident row of row `i` (its history rows are appended to `events`, its final
    status counted)."""
    reported_at = aware(rows.reported_at[i])
    at = reported_at.astimezone(UTC) if reported_at else stamp.now
    county_due = aware(rows.county_due_at[i])
    located = places.located[i]
    place = routing.place(located) if located else NOWHERE
    draft = _Draft(incident_id, rows.category[i], "reported", on_intake(at, county_due),
                   place.grid3, places.lon[i], places.lat[i])
    report: dict[str, Any] = {"channel": rows.source[i],
                              "parent_ticket_id": rows.parent_ticket_id[i]}
    geocoded = stamp.geocoded.detail(i)
    if geocoded is not None:
        report["geocode"] = geocoded
    reporter = rows.reporter[i]
    history = _history(draft, located, routing, at, county_due, report,
                       stamp.reporters[reporter] if reporter else stamp.actor)
    closed, resolution = aware(rows.closed_at[i]), rows.resolution[i]
    if closed is not None and resolution is not None:
        if draft.status == "dispatched":
            history += closing_events(draft, opened=at, closed=closed.astimezone(UTC),
                                      resolution=resolution, satisfaction=rows.satisfaction[i],
                                      actor=stamp.actor)
        else:
            statuses["not replayed"] += 1
    statuses[draft.status] += 1
    events += map(_event_row, history)
    candidates = stamp.geocoded.candidates(i)
    return (incident_id, rows.source[i], rows.external_id[i], rows.category[i],
            rows.description[i], rows.address[i], draft.lon, draft.lat, places.geom[i],
            reported_at or stamp.now, draft.status, draft.priority, place.town, place.grid2,
            place.grid3, place.district, place.zones, place.special, draft.assignee_type,
            draft.assignee_code, routing.array(draft.cooperating), draft.escalation_level,
            draft.respond_due_at, draft.due_at, draft.overdue_since, rows.parent_ticket_id[i],
            draft.resolution,
            draft.satisfaction, None if candidates is None else _json_list(candidates),
            draft.history_head, draft.history_length, draft.version, stamp.now, stamp.now)
