"""The wall's SQL: live incidents, changes since a cursor, counts for the KPI panel, a day's
events and a grid's figures. Every query takes the caller's scope condition
(`incidents.scope.visible`), so each account's wall counts only what it may see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.types import DateTime, Text

from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.incidents.core.deadlines import closed_on_time, deadline_colour, turns_yellow
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident, IncidentEvent

OPEN = sorted(OPEN_STATES)
Rows = Select[*tuple[Any, ...]]  # a select of any columns


def live_columns(now: datetime, yellow_share: float) -> tuple[Any, ...]:
    """What the wall draws of an incident, its deadline colour worked out in SQL (`yellow_at`:
    when it turns yellow, for the wall to recolour by the clock)."""
    return (Incident.id, Incident.status, Incident.source, Incident.category_code,
            Incident.priority, Incident.lon, Incident.lat, Incident.reported_at,
            Incident.due_at, Incident.overdue_since,
            deadline_colour(now, yellow_share).label("deadline"),
            turns_yellow(yellow_share).label("yellow_at"),
            Incident.grid3_code, Incident.assignee_type, Incident.assignee_code,
            Incident.address)


def open_incidents(scope: ColumnElement[bool], now: datetime, yellow_share: float,
                   limit: int) -> Rows:
    """Open, placed incidents, most urgent first."""
    return (select(*live_columns(now, yellow_share))
            .where(scope, Incident.status.in_(OPEN), Incident.lon.is_not(None))
            .order_by(Incident.due_at.asc().nulls_last(), Incident.id).limit(limit))


def incidents_by_id(scope: ColumnElement[bool], ids: list[int], now: datetime,
                    yellow_share: float) -> Rows:
    """The given incidents (those the caller may see), whatever their state."""
    return select(*live_columns(now, yellow_share)).where(scope, Incident.id.in_(ids))


def feed_items(live: Rows) -> Rows:
    """The rows of a select of `live_columns` as one JSON array of the feed's items, in its
    order, as text (handed on as it is, never parsed into Python). Built by PostgreSQL: at a
    county's 20,000 open incidents a Python row and dict of each cost ten times the query."""
    row = live.subquery("live").c
    assignee = case((and_(row.assignee_type.is_not(None), row.assignee_code.is_not(None)),
                     row.assignee_type + ":" + row.assignee_code))
    item = func.json_build_object(
        "id", row.id, "status", row.status, "source", row.source,
        "category", row.category_code, "priority", row.priority, "lon", row.lon,
        "lat", row.lat, "reported_at", row.reported_at, "due_at", row.due_at,
        "yellow_at", row.yellow_at, "deadline", row.deadline,
        "overdue_since", row.overdue_since, "grid3", row.grid3_code, "assignee", assignee,
        "address", row.address, "open", row.status.in_(OPEN))
    return select(func.coalesce(func.json_agg(item), literal_column("'[]'::json")).cast(Text))


def newest_event() -> Rows:
    """The id of the newest history row: the feed's cursor (history rows are append-only)."""
    return select(func.coalesce(func.max(IncidentEvent.id), 0))


def read_position() -> Rows:
    """Where this connection's server is in the WAL (`lsn`: a replica's replay position, the
    primary's position past every commit it shows, as `database.WRITE_POSITION`) and, when it
    is a replica with received WAL not yet replayed, the commit time of the last transaction
    it replayed (`behind_since`; null otherwise)."""
    recovering = func.pg_is_in_recovery()
    replayed, received = func.pg_last_wal_replay_lsn(), func.pg_last_wal_receive_lsn()
    written = case((func.current_setting("synchronous_commit") == "off",
                    func.pg_current_wal_insert_lsn()), else_=func.pg_current_wal_lsn())
    lsn = case((recovering, replayed), else_=written)
    behind = and_(recovering, or_(received.is_(None), received > replayed))
    last_commit = func.pg_last_xact_replay_timestamp(type_=DateTime(timezone=True))
    return select(lsn.cast(Text).label("lsn"), case((behind, last_commit)).label("behind_since"))


def changed_after(after: int, overlap_from: int, seen_since: datetime | None,
                  limit: int) -> Rows:
    """(incident id, history row id) of history rows after the cursor, and of rows in the
    overlap before it written since `seen_since` (they may have committed after the last
    poll read); oldest first, on the primary key's range."""
    late = IncidentEvent.id > overlap_from
    if seen_since is not None:
        late = and_(late, IncidentEvent.at >= seen_since)
    return (select(IncidentEvent.incident_id, IncidentEvent.id)
            .where(IncidentEvent.id > overlap_from, or_(IncidentEvent.id > after, late))
            .order_by(IncidentEvent.id).limit(limit))


def intake_by_source(scope: ColumnElement[bool], since: datetime) -> Rows:
    """Reports since `since`, per channel."""
    return (select(Incident.source, func.count()).where(scope, Incident.reported_at >= since)
            .group_by(Incident.source))


def open_by_deadline(scope: ColumnElement[bool], now: datetime,
                     yellow_share: float) -> Rows:
    """Open incidents per deadline colour."""
    colour = deadline_colour(now, yellow_share)
    return (select(colour, func.count()).where(scope, Incident.status.in_(OPEN))
            .group_by(colour))


def closed_since(scope: ColumnElement[bool], since: datetime) -> Rows:
    """Incidents closed since `since`, per resolution (the 721 ratio): how many, how many
    closed by their deadline, and the mean satisfaction."""
    on_time = case((closed_on_time(IncidentEvent.at), 1), else_=0)
    return (select(Incident.resolution, func.count(), func.sum(on_time),
                   func.avg(Incident.satisfaction))
            .join(IncidentEvent, and_(IncidentEvent.incident_id == Incident.id,
                                      IncidentEvent.action == "close"))
            .where(scope, IncidentEvent.at >= since, Incident.status == "closed")
            .group_by(Incident.resolution))


def busiest_grids(scope: ColumnElement[bool], condition: ColumnElement[bool],
                  limit: int) -> Rows:
    """Level-3 grids with the most incidents meeting `condition`."""
    count = func.count()
    return (select(Incident.grid3_code, count)
            .where(scope, condition, Incident.grid3_code.is_not(None))
            .group_by(Incident.grid3_code).order_by(count.desc(), Incident.grid3_code)
            .limit(limit))


def counted(scope: ColumnElement[bool], condition: ColumnElement[bool]) -> Rows:
    """How many incidents meet `condition`."""
    return select(func.count()).select_from(Incident).where(scope, condition)


def grid_names(codes: list[str], at: datetime) -> Rows:
    """Names of the grids valid at `at`."""
    return select(GridVersion.code, GridVersion.name).where(GridVersion.code.in_(codes),
                                                            valid_at(at))


def grid_version(code: str, at: datetime) -> Rows:
    """A grid's code, name, level and parent as valid at `at`."""
    return select(GridVersion.code, GridVersion.name, GridVersion.level,
                  GridVersion.parent_code).where(GridVersion.code == code, valid_at(at))


def day_incidents(scope: ColumnElement[bool], start: datetime, end: datetime,
                  limit: int) -> Rows:
    """Placed incidents reported in [start, end), in the order they came."""
    return (select(Incident.id, Incident.source, Incident.category_code, Incident.lon,
                   Incident.lat, Incident.reported_at, Incident.grid3_code)
            .where(scope, Incident.reported_at >= start, Incident.reported_at < end,
                   Incident.lon.is_not(None))
            .order_by(Incident.reported_at, Incident.id).limit(limit))


def day_events(ids: list[int], end: datetime) -> Rows:
    """The status changes of the given incidents before `end`, in order."""
    return (select(IncidentEvent.incident_id, IncidentEvent.at,
                   IncidentEvent.after["status"].astext)
            .where(IncidentEvent.incident_id.in_(ids), IncidentEvent.at < end)
            .order_by(IncidentEvent.incident_id, IncidentEvent.seq))


def recent_points(scope: ColumnElement[bool], since: datetime) -> Rows:
    """(lon, lat) of placed incidents reported since `since`."""
    return select(Incident.lon, Incident.lat).where(scope, Incident.reported_at >= since,
                                                    Incident.lon.is_not(None))
