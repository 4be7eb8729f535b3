"""Patrol use cases: record a track or a ping, list tracks and positions, monthly coverage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from gis_service.auth.models import Account
from gis_service.auth.permissions import OVERSEERS, PATROL_WALKERS
from gis_service.auth.service import Principal
from gis_service.database import STORAGE_SRID
from gis_service.errors import ForbiddenError, InvalidInputError
from gis_service.geojson import feature
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.incidents.schemas import Location
from gis_service.incidents.scope import CENTER_STAFF
from gis_service.patrols import queries
from gis_service.patrols.models import PatrolTrack
from gis_service.patrols.schemas import CoverageRead, GridCoverage, PatrolCreate
from gis_service.people.team import member_of, own_grid
from gis_service.timeutil import CHINA_TIME, aware
from grid_layers import crs as crs_module

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _may_walk(principal: Principal) -> None:
    if principal.role not in PATROL_WALKERS:
        raise ForbiddenError(f"a {principal.role} does not record patrols")


def _own_or_all(principal: Principal, account_id: Any) -> ColumnElement[bool]:
    """Center roles see every account's; a field account only its own."""
    return true() if principal.role in OVERSEERS else account_id == principal.account_id


def _storage(crs: str, lons: list[float], lats: list[float]) -> tuple[list[float], list[float]]:
    try:
        key = crs_module.normalize_crs(crs)
    except crs_module.UnknownCRSError as exc:
        raise InvalidInputError(f"unknown crs {crs!r}: use one of "
                                f"{', '.join(crs_module.SUPPORTED_CRS)}") from exc
    xs, ys = crs_module.to_storage(np.asarray(lons, dtype=np.float64),
                                   np.asarray(lats, dtype=np.float64), key)
    return [float(x) for x in xs], [float(y) for y in ys]


def record_track(session: Session, *, principal: Principal, body: PatrolCreate,
                 max_points: int, now: datetime) -> PatrolTrack:
    """Store a walked track in the storage CRS and move the walker's last known position."""
    _may_walk(principal)
    if len(body.points) > max_points:
        raise InvalidInputError(f"a track holds at most {max_points} points; send it in parts")
    xs, ys = _storage(body.crs, [p[0] for p in body.points], [p[1] for p in body.points])
    times = [t for t in body.times() if t is not None]
    started = aware(body.started_at) or (times[0] if times else now)
    ended = aware(body.ended_at) or (times[-1] if times else now)
    if ended < started:
        raise InvalidInputError("the track ends before it starts")
    line = from_shape(LineString(zip(xs, ys, strict=True)), srid=STORAGE_SRID)
    account = session.get(Account, principal.account_id)
    track = PatrolTrack(account_id=principal.account_id,
                        worker_code=account.worker_code if account else None,
                        grid_code=principal.scope_code, started_at=started, ended_at=ended,
                        geom=line, point_count=len(body.points),
                        length_m=queries.geodesic_length(session, line), created_at=now)
    session.add(track)
    queries.move_position(session, account_id=principal.account_id, lon=xs[-1], lat=ys[-1],
                          at=ended)
    session.commit()
    return track


@dataclass(frozen=True)
class WalkedTrack:
    """A track recorded elsewhere (a history file): whose account walked it, the points in
    storage lon/lat, when."""

    account_id: int
    worker_code: str | None
    grid_code: str | None
    started_at: datetime
    ended_at: datetime
    points: list[tuple[float, float]]


def store_tracks(session: Session, *, tracks: Sequence[WalkedTrack], now: datetime) -> int:
    """Store tracks in bulk, measured as `record_track` measures one, and move each account's
    last known position to the end of its latest track; how many were stored."""
    rows = [PatrolTrack(account_id=t.account_id, worker_code=t.worker_code,
                        grid_code=t.grid_code, started_at=t.started_at, ended_at=t.ended_at,
                        geom=from_shape(LineString(t.points), srid=STORAGE_SRID),
                        point_count=len(t.points), length_m=0.0, created_at=now)
             for t in tracks]
    session.add_all(rows)
    session.flush()
    queries.measure_tracks(session, [row.id for row in rows])
    latest: dict[int, WalkedTrack] = {}
    for track in tracks:
        if track.account_id not in latest or track.ended_at > latest[track.account_id].ended_at:
            latest[track.account_id] = track
    for account_id, track in latest.items():
        lon, lat = track.points[-1]
        queries.move_position(session, account_id=account_id, lon=lon, lat=lat,
                              at=track.ended_at)
    session.flush()
    return len(rows)


def ping(session: Session, *, principal: Principal, location: Location,
         now: datetime) -> dict[str, Any]:
    """Record where a field account is now, without a track; its position feature."""
    _may_walk(principal)
    xs, ys = _storage(location.crs, [location.lon], [location.lat])
    queries.move_position(session, account_id=principal.account_id, lon=xs[0], lat=ys[0],
                          at=now)
    session.flush()
    mine = [f for f in positions(session, principal=principal)
            if f["properties"]["username"] == principal.username]
    session.commit()
    return mine[0]


def track_features(session: Session, *, principal: Principal, since: datetime | None,
                   until: datetime | None, worker: str | None,
                   limit: int) -> list[dict[str, Any]]:
    """Tracks the caller may see as GeoJSON features, newest first."""
    rows = queries.tracks(session, scope=_own_or_all(principal, PatrolTrack.account_id),
                          since=since, until=until, worker=worker, limit=limit)
    return [feature(str(t.id), {
        "id": t.id, "username": username, "worker_code": t.worker_code,
        "grid_code": t.grid_code, "started_at": t.started_at.isoformat(),
        "ended_at": t.ended_at.isoformat(), "point_count": t.point_count,
        "length_m": round(t.length_m, 1)}, geom) for t, username, geom in rows]


def positions(session: Session, *, principal: Principal) -> list[dict[str, Any]]:
    """Each field account's last known position the caller may see, as Point features: a
    town center those in its town, the county center those in its county (or in the town it
    is looking at)."""
    rows = queries.positions(session, scope=_own_or_all(principal, Account.id))
    area = principal.viewing or (principal.scope_code if principal.role in CENTER_STAFF
                                 else None)
    inside = _area_shape(session, area) if area else None
    features = []
    for position, account, worker in rows:
        if inside is not None and not inside.covers(shapely.Point(position.lon, position.lat)):
            continue
        grid = worker.grid_code if worker is not None else None
        if grid is None and account.role == "grid_worker":
            grid = account.scope_code
        features.append({
            "type": "Feature", "id": account.username,
            "geometry": {"type": "Point", "coordinates": [position.lon, position.lat]},
            "properties": {"worker_code": account.worker_code,
                           "worker_name": worker.name if worker is not None else None,
                           "grid_code": grid, "username": account.username,
                           "at": position.at.isoformat()}})
    return features


def _area_shape(session: Session, code: str) -> BaseGeometry:
    """A town's or county's outline now, prepared (empty when the code names no grid)."""
    geom = session.scalar(select(GridVersion.geom).where(GridVersion.code == code,
                                                         valid_at(datetime.now(UTC))))
    shape = to_shape(geom) if geom is not None else shapely.Polygon()
    shapely.prepare(shape)
    return shape


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a `YYYY-MM` month in China time."""
    match = MONTH.match(month)
    if match is None:
        raise InvalidInputError(f"month {month!r} is not YYYY-MM")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=CHINA_TIME)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CHINA_TIME)
    return start, end


def coverage(session: Session, *, month: str, grid: str | None, buffer_m: float,
             now: datetime) -> CoverageRead:
    """The share of each level-3 grid within `buffer_m` metres of the month's tracks."""
    start, end = month_bounds(month)
    grids_at = min(end - timedelta(microseconds=1), now)  # the boundaries the month ended with
    counted, rows = queries.coverage(session, start=start, end=end, grids_at=grids_at,
                                     buffer_m=buffer_m, grid=grid)
    grids = [GridCoverage(code=code, name=name, area_m2=round(area, 1),
                          covered_m2=round(covered, 1),
                          share=round(min(covered / area, 1.0), 4) if area > 0 else 0.0)
             for code, name, area, covered in rows]
    return CoverageRead(month=month, buffer_m=buffer_m, tracks=counted, grids=grids)


def walker(session: Session, *, principal: Principal) -> dict[str, str | None]:
    """Who the caller is in the field: worker code and name, and the grid they patrol."""
    found = queries.walker(session, account_id=principal.account_id)
    account, worker = found if found is not None else (None, None)
    grid = worker.grid_code if worker is not None else None
    if grid is None:  # a grid worker's scope, a team member's grid
        grid = own_grid(session, principal)
    member = member_of(session, principal)  # a team member is named as its team lists it
    name = worker.name if worker is not None else member.name if member is not None else None
    return {"worker_code": account.worker_code if account is not None else None,
            "worker_name": name, "grid_code": grid}
