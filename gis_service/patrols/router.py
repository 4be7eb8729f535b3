"""/api/v1/patrols: record tracks and pings, list tracks and positions, monthly coverage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from gis_service import write_keys
from gis_service.auth.deps import PrincipalDep, ViewerDep
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.geojson import GEOJSON_RESPONSES, collection_response, feature_response
from gis_service.incidents.schemas import Location
from gis_service.patrols import service
from gis_service.patrols.schemas import CoverageRead, PatrolCreate, PatrolRead
from gis_service.timeutil import aware

router = APIRouter(prefix="/api/v1", tags=["patrols"])


@router.post("/patrols", status_code=201)
def record_patrol(request: Request, response: Response, body: PatrolCreate,
                  session: SessionDep, principal: PrincipalDep,
                  idempotency_key: Annotated[str | None, Header()] = None) -> PatrolRead:
    """Store a walked track (grid workers, squads, admins); points are [lon, lat, time?] in
    `crs`, stored in CGCS2000; the last point becomes the walker's known position. With an
    Idempotency-Key, the same track sent again answers with the first (200), not stored twice."""
    now = datetime.now(UTC)
    if idempotency_key is not None and not write_keys.claim(
            session, principal=principal, kind="patrol", key=idempotency_key,
            request_hash=write_keys.fingerprint(body.model_dump_json()), incident_id=None,
            now=now):
        response.status_code = 200
        track = write_keys.track_made(session, principal=principal, body=body)
    else:
        track = service.record_track(
            session, principal=principal, body=body,
            max_points=context_of(request).settings.patrol_max_points, now=now)
    return PatrolRead(username=principal.username, **{
        name: getattr(track, name) for name in PatrolRead.model_fields if name != "username"})


@router.get("/patrols", responses=GEOJSON_RESPONSES, response_class=Response)
def list_patrols(session: SessionDep, principal: PrincipalDep,
                 since: datetime | None = None, until: datetime | None = None,
                 worker: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Response:
    """Tracks started within [since, until) as GeoJSON, newest first: a field account sees
    its own, the command center everyone's."""
    return collection_response(service.track_features(
        session, principal=principal, since=aware(since), until=aware(until), worker=worker,
        limit=limit))


@router.get("/patrols/positions", responses=GEOJSON_RESPONSES, response_class=Response)
def list_positions(session: SessionDep, principal: ViewerDep) -> Response:
    """Each field account's last known position (its latest track's end or ping) as Points
    with `worker_code`, `worker_name`, `grid_code`, `username`, `at`."""
    return collection_response(service.positions(session, principal=principal))


@router.post("/patrols/ping", responses=GEOJSON_RESPONSES, response_class=Response)
def post_ping(body: Location, session: SessionDep, principal: PrincipalDep) -> Response:
    """Record where the caller is now (`lon`, `lat`, `crs`) without a track."""
    position = service.ping(session, principal=principal, location=body, now=datetime.now(UTC))
    return feature_response(position)


@router.get("/patrols/coverage")
def patrol_coverage(request: Request, session: SessionDep, _: PrincipalDep,
                    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$",
                                                description="YYYY-MM, China time")],
                    grid: str | None = None) -> CoverageRead:
    """Patrol coverage per level-3 grid in a month: `covered_m2` is the area of the grid
    within GIS_PATROL_BUFFER_M metres (default 30) of any track started that month (China
    time, UTC+8), whoever walked it; `share` = covered_m2 / area_m2. Distances are buffered
    on the CGCS2000 ellipsoid and areas measured on it, in square metres; grids are those
    valid at the month's end (or now, for the running month)."""
    return service.coverage(session, month=month, grid=grid,
                            buffer_m=context_of(request).settings.patrol_buffer_m,
                            now=datetime.now(UTC))
