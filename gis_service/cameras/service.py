"""Reading cameras: as GeoJSON features, a camera's card (with its open incidents, as the
caller may see them), and a camera's place for a report that names it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.cameras import queries
from gis_service.cameras.catalog import ptz_key
from gis_service.cameras.gbcode import GbCode, describe
from gis_service.cameras.models import Camera
from gis_service.dashboard.queries import open_incidents
from gis_service.errors import NotFoundError
from gis_service.geojson import feature
from gis_service.incidents.models import Incident
from gis_service.incidents.scope import visible

OPEN_LISTED = 20  # a card lists this many of a camera's open incidents, most urgent first


@dataclass(frozen=True)
class CameraPlace:
    """Where a camera stands and looks: what an event naming only the camera is placed by."""

    code: str
    name: str
    lon: float
    lat: float
    direction: float | None


def camera_properties(camera: Camera) -> dict[str, Any]:
    """The public properties of a camera: its code's parts with the standard's names, the
    lens direction (degrees from north), the PTZ type's key, the owner."""
    parts = GbCode(camera.division, camera.industry, camera.device_type, camera.network,
                   camera.code[14:])
    return {"code": camera.code, "name": camera.name, **describe(parts),
            "direction": camera.direction, "ptz": ptz_key(camera.ptz_type),
            "owner": camera.owner, "attributes": camera.attributes}


def camera_features(session: Session, *, town: str | None, now: datetime) -> list[dict[str, Any]]:
    """Every camera, or those inside `town` (its boundary at `now`)."""
    rows = session.execute(queries.select_cameras(town=town, at=now))
    return [feature(c.code, camera_properties(c), geom) for c, geom in rows]


def camera_card(session: Session, *, principal: Principal, code: str, now: datetime,
                yellow_share: float) -> dict[str, Any]:
    """A camera as a Feature whose properties add `open_items`: its open incidents that the
    caller may see, most urgent first (as the grid card lists them); 404 when no camera has
    that code."""
    row = session.execute(queries.select_camera(code)).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {code} 的摄像机")
    scope = visible(principal) & (Incident.camera_code == code)
    items = [{"id": r.id, "status": r.status, "category": r.category_code,
              "deadline": r.deadline, "due_at": r.due_at, "reported_at": r.reported_at,
              "address": r.address}
             for r in session.execute(open_incidents(scope, now, yellow_share, OPEN_LISTED))]
    return feature(row[0].code, {**camera_properties(row[0]), "open_items": items}, row[1])


def find_camera(session: Session, code: str) -> CameraPlace | None:
    """The camera of that code and its position (storage lon/lat), or None."""
    return find_cameras(session, {code}).get(code)


def find_cameras(session: Session, codes: set[str]) -> dict[str, CameraPlace]:
    """The cameras of these codes that exist, by code (one query for a batch of events)."""
    if not codes:
        return {}
    rows = session.execute(queries.select_places(sorted(codes)))
    return {code: CameraPlace(code, name, float(lon), float(lat), direction)
            for code, name, lon, lat, direction in rows}
