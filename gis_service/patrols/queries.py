"""Patrol SQL: geodesic lengths, tracks and positions in scope, monthly coverage."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geography, Geometry
from geoalchemy2 import functions as gfn
from geoalchemy2.elements import WKBElement
from sqlalchemy import ColumnElement, bindparam, cast, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.auth.models import Account
from gis_service.database import STORAGE_SRID
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.patrols.models import PatrolTrack, WorkerPosition
from gis_service.people.models import Worker

# typmods with our SRID: a bare `geography` cast means SRID 4326 and refuses 4490 input
GEOGRAPHY = Geography(srid=STORAGE_SRID)


def geodesic_length(session: Session, line: WKBElement) -> float:
    """The line's length in metres on the CGCS2000 ellipsoid."""
    geom = bindparam("line", line, type_=Geometry(srid=STORAGE_SRID))
    return float(session.scalar(select(gfn.ST_Length(cast(geom, GEOGRAPHY)))) or 0.0)


def measure_tracks(session: Session, ids: list[int]) -> None:
    """Set each track's length in metres on the CGCS2000 ellipsoid, as `geodesic_length`."""
    session.execute(update(PatrolTrack).where(PatrolTrack.id.in_(ids)).values(
        length_m=gfn.ST_Length(cast(PatrolTrack.geom, GEOGRAPHY))))


def move_position(session: Session, *, account_id: int, lon: float, lat: float,
                  at: datetime) -> None:
    """Set an account's last known position unless a later one is stored already."""
    stmt = insert(WorkerPosition).values(account_id=account_id, lon=lon, lat=lat, at=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[WorkerPosition.account_id],
        set_={"lon": stmt.excluded.lon, "lat": stmt.excluded.lat, "at": stmt.excluded.at},
        where=WorkerPosition.at <= stmt.excluded.at)
    session.execute(stmt)


def tracks(session: Session, *, scope: ColumnElement[bool], since: datetime | None,
           until: datetime | None, worker: str | None,
           limit: int) -> list[tuple[PatrolTrack, str, str]]:
    """Tracks in scope started within [since, until), newest first, with user and line."""
    # not geometry_json: its ST_ForcePolygonCCW reverses lines in this PostGIS
    line = gfn.ST_AsGeoJSON(PatrolTrack.geom, COORDINATE_DECIMALS, 0)
    stmt = (select(PatrolTrack, Account.username, line)
            .join(Account, Account.id == PatrolTrack.account_id).where(scope))
    if since is not None:
        stmt = stmt.where(PatrolTrack.started_at >= since)
    if until is not None:
        stmt = stmt.where(PatrolTrack.started_at < until)
    if worker is not None:
        stmt = stmt.where(PatrolTrack.worker_code == worker)
    stmt = stmt.order_by(PatrolTrack.started_at.desc(), PatrolTrack.id.desc()).limit(limit)
    return [(track, username, geom) for track, username, geom in session.execute(stmt)]


def positions(session: Session, *,
              scope: ColumnElement[bool]) -> list[tuple[WorkerPosition, Account, Worker | None]]:
    """Last known positions in scope, with the account and the worker it is (or None)."""
    stmt = (select(WorkerPosition, Account, Worker)
            .join(Account, Account.id == WorkerPosition.account_id)
            .outerjoin(Worker, Worker.code == Account.worker_code)
            .where(scope).order_by(Account.username))
    return [(position, account, worker) for position, account, worker in session.execute(stmt)]


def coverage(session: Session, *, start: datetime, end: datetime, grids_at: datetime,
             buffer_m: float, grid: str | None) -> tuple[int, list[tuple[str, str, float, float]]]:
    """(tracks counted, [(code, name, area m², covered m²)]) for the level-3 grids valid at
    `grids_at`, covered by the tracks started within [start, end)."""
    in_month = (PatrolTrack.started_at >= start) & (PatrolTrack.started_at < end)
    counted = session.scalar(select(func.count()).select_from(PatrolTrack).where(in_month))
    # each track buffered in metres (PostGIS buffers a geography in a best-fit metric
    # projection around it), then merged: the area within `buffer_m` metres of any track.
    # The buffer comes back labelled WGS84 (4326), which agrees with CGCS2000 to centimetres.
    buffered = gfn.ST_SetSRID(
        func.geometry(gfn.ST_Buffer(cast(PatrolTrack.geom, GEOGRAPHY), buffer_m)), STORAGE_SRID)
    cover = select(gfn.ST_Union(buffered)).where(in_month).scalar_subquery()
    covered = func.coalesce(
        gfn.ST_Area(cast(gfn.ST_Intersection(GridVersion.geom, cover), GEOGRAPHY)), 0.0)
    stmt = (select(GridVersion.code, GridVersion.name,
                   gfn.ST_Area(cast(GridVersion.geom, GEOGRAPHY)), covered)
            .where(GridVersion.level == 3, valid_at(grids_at),
                   GridVersion.code == grid if grid is not None else true())
            .order_by(GridVersion.code))
    return int(counted or 0), [(code, name, float(area), float(covered))
                               for code, name, area, covered in session.execute(stmt)]


def walker(session: Session, *, account_id: int) -> tuple[Account, Worker | None] | None:
    """An account and the worker it is (None when it names none)."""
    stmt = (select(Account, Worker).outerjoin(Worker, Worker.code == Account.worker_code)
            .where(Account.id == account_id))
    row = session.execute(stmt).first()
    return (row[0], row[1]) if row is not None else None
