"""GET and POST /api/v1/locate: answered from memory, no database round trip per request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep
from gis_service.errors import InvalidInputError, PayloadTooLargeError
from gis_service.locate.schemas import LocateBatchRequest, LocateBatchResponse, LocateResult
from gis_service.locate.service import LocatorCache
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.timeutil import aware
from grid_layers import crs as crs_module

router = APIRouter(prefix="/api/v1", tags=["locate"])


def _snapshot(request: Request, at: datetime | None) -> LocatorSnapshot:
    cache: LocatorCache = request.app.state.locator
    moment = aware(at)
    return cache.current() if moment is None else cache.at(moment)


def _normalized_crs(name: str) -> str:
    try:
        return crs_module.normalize_crs(name)
    except crs_module.UnknownCRSError as exc:
        raise InvalidInputError(str(exc)) from exc


@router.get("/locate", response_model=LocateResult)
def locate(
    request: Request,
    _: PrincipalDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude in `crs`")],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude in `crs`")],
    crs: str = "wgs84",
    at: Annotated[datetime | None, Query(description="ISO time; default now")] = None,
) -> Response:
    """The town, grids, special grids, district, zones and worker at one point."""
    x, y = crs_module.point_to_storage(lon, lat, _normalized_crs(crs))
    answer = _snapshot(request, at).locate_point(x, y)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.post("/locate", response_model=LocateBatchResponse)
def locate_many(
    request: Request,
    _: PrincipalDep,
    body: LocateBatchRequest,
    at: Annotated[datetime | None, Query(description="ISO time; default now")] = None,
) -> Response:
    """The same answer for each of many points, in order."""
    limit = request.app.state.settings.max_locate_points
    if len(body.points) > limit:
        raise PayloadTooLargeError(f"at most {limit} points per request")
    crs = _normalized_crs(body.crs)
    coords = np.asarray(body.points, dtype=np.float64).reshape(-1, 2)
    lon, lat = coords[:, 0], coords[:, 1]
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(f"point {first} is not a [lon, lat] pair in range",
                                invalid_points=np.flatnonzero(bad)[:100].tolist())
    x, y = crs_module.to_storage(lon, lat, crs)
    results = _snapshot(request, at).locate_many(x, y)
    return Response(orjson.dumps({"results": results}), media_type="application/json")
