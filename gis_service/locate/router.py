"""GET and POST /api/v1/locate: answered from memory, no database round trip per request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.errors import InvalidInputError, PayloadTooLargeError
from gis_service.locate import columns as compact
from gis_service.locate.schemas import (
    FIELDS_HELP,
    LocateBatchRequest,
    LocateBatchResponse,
    LocateColumns,
    LocateResult,
    read_batch,
)
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.timeutil import aware
from grid_layers import crs as crs_module
from grid_layers.wording import swapped_coordinates

router = APIRouter(prefix="/api/v1", tags=["locate"])


def _snapshot(request: Request, at: datetime | None) -> LocatorSnapshot[Any]:
    # Any: the routing book the service's snapshots carry is not read here
    cache = context_of(request).locator
    moment = aware(at)
    return cache.current() if moment is None else cache.at(moment)


def _normalized_crs(name: str) -> str:
    try:
        return crs_module.normalize_crs(name)
    except crs_module.UnknownCRSError as exc:
        raise InvalidInputError(str(exc)) from exc


def _checked_point(lon: float, lat: float) -> None:
    """A 422 like FastAPI's own for a point that cannot be lon/lat, saying so when the two
    look swapped (a latitude where the longitude goes, and the other way round)."""
    hint = swapped_coordinates(lon, lat)
    if hint is not None:
        raise RequestValidationError([{"type": "swapped_coordinates", "loc": ("query", "lon"),
                                       "msg": hint, "input": {"lon": lon, "lat": lat}}])
    for name, value, limit in (("lon", lon, 180), ("lat", lat, 90)):
        if not -limit <= value <= limit:
            raise RequestValidationError([{
                "type": "out_of_range", "loc": ("query", name), "input": value,
                "msg": f"Input should be between -{limit} and {limit}"}])


@router.get("/locate", response_model=LocateResult)
async def locate(
    request: Request,
    _: PrincipalDep,
    # the bounds are checked in the handler, where a swapped pair can be named as such
    lon: Annotated[float, Query(description="longitude in `crs`, -180 to 180")],
    lat: Annotated[float, Query(description="latitude in `crs`, -90 to 90")],
    crs: str = "wgs84",
    at: Annotated[datetime | None, Query(description="ISO time; default now")] = None,
) -> Response:
    """The town, grids, special grids, district, zones and worker at one point."""
    _checked_point(lon, lat)
    x, y = crs_module.point_to_storage(lon, lat, _normalized_crs(crs))
    cache = context_of(request).locator
    # The answer takes microseconds: stay on the event loop unless the snapshot needs a look
    # at the database (once a second, or for a past time).
    fresh = cache.fresh() if at is None else None
    snapshot = fresh if fresh is not None else await run_in_threadpool(_snapshot, request, at)
    answer = snapshot.locate_point(x, y)
    return Response(orjson.dumps(answer), media_type="application/json")


BATCH_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": LocateBatchRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}}}

CSV_EXAMPLE = "town,grid2,grid3\nQD,QD-01,QD-01-02\n,,\n"
ANSWERS: dict[int | str, dict[str, Any]] = {200: {
    "description": "without `fields`: `{\"results\": [...]}`, the full answer per point "
                   "(`LocateBatchResponse`); with `fields`: `{\"town\": [...], ...}`, one array "
                   "per field in the order asked (`LocateColumns`), or with `Accept: text/csv` "
                   "a header of the fields and a row per point (empty where no area, an "
                   "overlay's codes joined by `;`, `true`/`false`)",
    "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}}}


@router.post("/locate", response_model=LocateBatchResponse | LocateColumns,
             openapi_extra=BATCH_BODY, responses=ANSWERS)
async def locate_many(
    request: Request,
    _: PrincipalDep,
    at: Annotated[datetime | None, Query(description="ISO time; default now")] = None,
    fields: Annotated[str | None, Query(description=FIELDS_HELP + ", comma-separated",
                                        examples=["town,grid2,grid3"])] = None,
) -> Response:
    """The same answer for each of many points, in order; with `fields` (here or in the body)
    only those codes, one array per field, or CSV when `Accept: text/csv`."""
    raw = await request.body()
    as_csv = "text/csv" in request.headers.get("accept", "")
    # reading 200,000 points takes ~60 ms: off the event loop, with the rest
    return await run_in_threadpool(_locate_many, request, raw, at, fields, as_csv)


def _locate_many(request: Request, raw: bytes, at: datetime | None, fields: str | None,
                 as_csv: bool) -> Response:
    try:
        body = read_batch(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    asked = fields if fields is not None else body.fields
    wanted = compact.parse_fields(asked) if asked is not None else None
    limit = context_of(request).settings.max_locate_points
    if len(body.points) > limit:
        raise PayloadTooLargeError(f"at most {limit} points per request")
    crs = _normalized_crs(body.crs)
    lon, lat = body.points[:, 0], body.points[:, 1]
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(f"point {first} is not a [lon, lat] pair in range",
                                invalid_points=np.flatnonzero(bad)[:100].tolist())
    x, y = crs_module.to_storage(lon.copy(), lat.copy(), crs)
    if wanted is not None:
        table = compact.columns(_snapshot(request, at), x, y, wanted)
        if as_csv:
            return Response(compact.to_csv(table), media_type="text/csv; charset=utf-8")
        return Response(compact.to_json(table), media_type="application/json")
    results = _snapshot(request, at).locate_many(x, y)
    return Response(orjson.dumps({"results": results}), media_type="application/json")
