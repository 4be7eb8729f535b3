"""Camera queries: the cameras (of one town, by its boundary now), one by its code, and the
places of several (the intake's camera events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import Select, select

from gis_service.cameras.models import Camera
from gis_service.geojson import geometry_json
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at


def select_cameras(*, town: str | None = None, at: datetime) -> Select[Camera, str]:
    """(camera, GeoJSON geometry) in code order; with `town`, those inside that town's
    boundary valid at `at`."""
    query = select(Camera, geometry_json(Camera.geom))
    if town is not None:
        boundary = (select(GridVersion.geom)
                    .where(GridVersion.code == town, GridVersion.level == 1, valid_at(at))
                    .scalar_subquery())
        query = query.where(gfn.ST_Covers(boundary, Camera.geom))
    return query.order_by(Camera.code)


def select_camera(code: str) -> Select[Camera, str, Any, Any]:
    """(camera, GeoJSON geometry, lon, lat) of one code."""
    return select(Camera, geometry_json(Camera.geom), gfn.ST_X(Camera.geom),
                  gfn.ST_Y(Camera.geom)).where(Camera.code == code)


def select_places(codes: list[str]) -> Select[str, str, float, float, float | None]:
    """(code, name, lon, lat, direction) of the cameras of these codes."""
    return select(Camera.code, Camera.name, gfn.ST_X(Camera.geom), gfn.ST_Y(Camera.geom),
                  Camera.direction).where(Camera.code.in_(codes))
