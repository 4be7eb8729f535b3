"""/ogc/: OGC API – Features. The landing page, conformance and API definition are open; the
collections need a signed-in principal (bearer token or session cookie) like the rest."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import ReadSessionDep
from gis_service.ogc import documents, service
from gis_service.ogc.collections import COLLECTIONS
from gis_service.ogc.openapi import openapi_document
from gis_service.ogc.params import single_values

router = APIRouter(prefix="/ogc", tags=["ogc"])
# the collections read from the read role (ReadSessionDep, GIS_READ_DATABASE_URL): GIS clients
# read features to map and analyse them, a few hundred milliseconds behind is fine
JSON_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {documents.JSON: {}}}}
GEOJSON_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {documents.GEOJSON: {}}}}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


def _no_parameters(request: Request) -> None:
    single_values(request.query_params.multi_items(), ())


def _json(body: dict[str, Any], media_type: str = documents.JSON) -> Response:
    return Response(orjson.dumps(body), media_type=media_type)


def _geojson(answer: service.FeatureAnswer) -> Response:
    return Response(orjson.dumps(answer.body), media_type=documents.GEOJSON,
                    headers={"Content-Crs": answer.crs.header()})


@router.get("/", response_class=Response, responses=JSON_RESPONSES)
@router.get("", response_class=Response, include_in_schema=False)
def landing_page(request: Request) -> Response:
    """The landing page: links to the API definition, conformance and the collections."""
    _no_parameters(request)
    return _json(documents.landing_page(_base(request)))


@router.get("/conformance", response_class=Response, responses=JSON_RESPONSES)
def conformance(request: Request) -> Response:
    """The conformance classes implemented."""
    _no_parameters(request)
    return _json(documents.conformance())


@router.get("/api", response_class=Response,
            responses={200: {"content": {documents.OPENAPI: {}}}})
def api_definition(request: Request) -> Response:
    """The OpenAPI 3.0 definition of these endpoints."""
    _no_parameters(request)
    cookie = context_of(request).settings.session_cookie
    body = openapi_document(_base(request), list(COLLECTIONS.values()), cookie)
    return _json(body, documents.OPENAPI)


@router.get("/collections", response_class=Response, responses=JSON_RESPONSES)
def collections(request: Request, session: ReadSessionDep, principal: PrincipalDep) -> Response:
    """Every feature collection, with its extent and CRSs."""
    _no_parameters(request)
    return _json(service.list_collections(session, principal, _base(request)))


@router.get("/collections/{collection_id}", response_class=Response, responses=JSON_RESPONSES)
def collection(collection_id: str, request: Request, session: ReadSessionDep,
               principal: PrincipalDep) -> Response:
    """One feature collection."""
    _no_parameters(request)
    found = service.find_collection(collection_id)
    return _json(service.describe(session, principal, found, _base(request)))


@router.get("/collections/{collection_id}/items", response_class=Response,
            responses=GEOJSON_RESPONSES)
def items(collection_id: str, request: Request, session: ReadSessionDep,
          principal: PrincipalDep) -> Response:
    """A page of features: `limit`, `offset`, `bbox`, `bbox-crs`, `crs`, `datetime` and the
    collection's queryable properties (see /ogc/api)."""
    found = service.find_collection(collection_id)
    url = f"{_base(request)}/collections/{collection_id}/items"
    return _geojson(service.items(session, principal, found,
                                  request.query_params.multi_items(), url))


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=Response,
            responses=GEOJSON_RESPONSES)
def item(collection_id: str, feature_id: str, request: Request, session: ReadSessionDep,
         principal: PrincipalDep) -> Response:
    """One feature (`crs`; grids also `datetime`)."""
    found = service.find_collection(collection_id)
    return _geojson(service.item(session, principal, found, feature_id,
                                 request.query_params.multi_items(), _base(request),
                                 str(request.url)))
