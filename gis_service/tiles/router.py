"""GET /tiles/{collection}/{z}/{x}/{y}.pbf: Mapbox vector tiles of the map layers and incidents.

Map layers (grids, districts, zones, projects, stations, cameras) are served from an
in-process cache keyed by their data's stamp, with `Cache-Control: public` and an ETag that
changes with the data; incident tiles are made for each request, for the caller's scope,
`private, max-age=5`. An empty tile answers 204 No Content (map clients treat it as a tile
with nothing in it).
This router's lifespan (merged into the app's) sets up the cache and folds the incident
aggregate in the background (`cells.py`).

Connection roles: incident tiles, made for each request, read from the read role
(`database.read_session`, GIS_READ_DATABASE_URL: a map a few hundred milliseconds behind is
fine, and a caller's own writes are waited for). Map-layer tiles are made on the primary:
they are kept under the layer's stamp, read from the primary, and one made on a replica that
has not replayed the change yet would be kept, stale, under the new stamp; they are made only
when a layer changes. The aggregate's fold writes, and stays on the primary.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gis_service.auth.deps import ViewerDep
from gis_service.auth.service import Principal
from gis_service.context import app_context, context_of
from gis_service.database import read_session
from gis_service.errors import NotFoundError
from gis_service.tiles import service
from gis_service.tiles.cells import fold_loop, owns_connections
from gis_service.tiles.queries import LAYERS, IncidentFilters
from gis_service.tiles.tiling import MAX_ZOOM, Tile

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
INCIDENTS = "incidents"
LAYER_CACHE_CONTROL = "public, max-age=60"  # the ETag changes with the data: edits show
INCIDENT_CACHE_CONTROL = "private, max-age=5"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {MEDIA_TYPE: {}}, "description": "the tile"},
    204: {"description": "an empty tile"}, 304: {"description": "not modified"}}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the aggregate's fold while the app runs (a write: on the primary)."""
    context = app_context(app)
    settings, factory = context.settings, context.session_factory
    folding = None
    if settings.tile_fold_seconds > 0 and owns_connections(factory):
        folding = asyncio.create_task(fold_loop(factory, settings.tile_fold_seconds))
    yield
    if folding is not None:
        folding.cancel()


router = APIRouter(tags=["tiles"], lifespan=lifespan)


@router.get("/tiles/{collection}/{z}/{x}/{y}.pbf", response_class=Response,
            responses=TILE_RESPONSES)
async def get_tile(
    request: Request, collection: str, principal: ViewerDep,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)], x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    status: Annotated[str | None, Query(description="incidents: statuses, comma-separated")]
    = None,
    category: Annotated[str | None, Query(description="incidents: a category code")] = None,
    since: Annotated[datetime | None, Query(description="incidents reported from")] = None,
    until: Annotated[datetime | None, Query(description="incidents reported before")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A vector tile of `grids`, `districts`, `zones`, `projects`, `stations`, `cameras` or
    `incidents` (counts per bin up to z11, and up to z13 for a window longer than 7 days or
    none; points above; the filters apply to incidents only). An empty tile answers 204."""
    if collection != INCIDENTS and collection not in LAYERS:
        raise NotFoundError(f"no collection {collection!r}; there are "
                            f"{', '.join((*LAYERS, INCIDENTS))}")
    tile = Tile.checked(z, x, y)
    if collection == INCIDENTS:
        filters = service.incident_filters(status, category, since, until)
        body = await run_in_threadpool(_incidents, request, principal, tile, filters)
        return _answer(body, service.body_etag(body), INCIDENT_CACHE_CONTROL, if_none_match)
    return await _layer(request, collection, tile, if_none_match)


async def _layer(request: Request, layer: str, tile: Tile, if_none_match: str | None) -> Response:
    """From the cache when made for the layer's current stamp; else made and kept."""
    state = context_of(request).tiles
    stamps = state.stamps.fresh()
    if stamps is None:
        stamps = await run_in_threadpool(state.stamps.current)
    etag = f'"{layer}-{stamps[layer]}"'
    if _matches(if_none_match, etag):
        return _not_modified(etag, LAYER_CACHE_CONTROL)
    key = (layer, tile.z, tile.x, tile.y, stamps[layer])
    body = state.cache.get(key)
    if body is None:
        body = await run_in_threadpool(_render_layer, request, layer, tile)
        state.cache.put(key, body)
    return _answer(body, etag, LAYER_CACHE_CONTROL, None)


def _render_layer(request: Request, layer: str, tile: Tile) -> bytes:
    # the primary: the tile is cached under the primary's stamp (see the module's docstring)
    with context_of(request).session_factory() as session:
        return service.layer_tile(session, layer, tile, datetime.now(UTC))


def _incidents(request: Request, principal: Principal, tile: Tile,
               filters: IncidentFilters) -> bytes:
    settings = context_of(request).settings
    with read_session(request) as session:
        return service.incident_tile(session, principal, tile, filters, datetime.now(UTC),
                                     settings.deadline_yellow_share)


def _answer(body: bytes, etag: str, cache_control: str, if_none_match: str | None) -> Response:
    if _matches(if_none_match, etag):
        return _not_modified(etag, cache_control)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison, as RFC 9110 asks) or is `*`."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
