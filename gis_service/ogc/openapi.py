"""The OpenAPI 3.0 definition of the OGC endpoints (served at /ogc/api), built from the
collections so that each one's items path lists exactly the parameters it takes."""

from __future__ import annotations

from typing import Any

from gis_service.errors import PROBLEM_MEDIA_TYPE
from gis_service.ogc.collections import Collection, Temporal
from gis_service.ogc.crs import CRS84, SUPPORTED
from gis_service.ogc.documents import GEOJSON, JSON, OPENAPI, TITLE
from gis_service.ogc.params import DEFAULT_LIMIT, MAX_LIMIT

SIGNED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


def _crs_parameter(name: str, description: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "uri", "enum": list(SUPPORTED), "default": CRS84}
    return _query(name, description, schema, explode=False)


def _datetime_parameter(collection: Collection) -> dict[str, Any]:
    if collection.temporal is Temporal.VERSIONS:
        text = ("An RFC 3339 instant: the versions valid then (default now). An interval is "
                "refused (400).")
    else:
        text = ("An RFC 3339 instant or interval (`start/end`, `..` for an open end) of the "
                "time reported.")
    return _query("datetime", text + " A time without a zone is UTC+8.", {"type": "string"})


def _items_parameters(collection: Collection) -> list[dict[str, Any]]:
    parameters = [
        _query("limit", f"Page size; a value above {MAX_LIMIT} is served as {MAX_LIMIT}.",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT}, style="form", explode=False),
        _query("offset", "Features to skip (the `next` link sets it).",
               {"type": "integer", "minimum": 0, "default": 0}),
        _query("bbox", "minx,miny,maxx,maxy in `bbox-crs` axis order (EPSG:4490 is lat,lon).",
               {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
               style="form", explode=False),
        _crs_parameter("bbox-crs", "The CRS of `bbox`."),
        _crs_parameter("crs", "The CRS of the response's coordinates."),
    ]
    if collection.temporal is not None:
        parameters.append(_datetime_parameter(collection))
    parameters += [_query(name, f"Only features whose `{name}` equals this.",
                          {"type": queryable.type})
                   for name, queryable in collection.queryables.items()]
    return parameters


def _responses(media_type: str, schema: str, what: str) -> dict[str, Any]:
    problem = {"content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/"
                                                                    "problem"}}}}
    return {"200": {"description": what,
                    "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                    "headers": {"Content-Crs": {"description": "the CRS of the coordinates",
                                                "schema": {"type": "string"}}}},
            "400": {"description": "a parameter the API does not define, or a bad value",
                    **problem},
            "401": {"description": "no valid token or session", **problem},
            "404": {"description": "no such collection or feature", **problem}}


def _collection_paths(collection: Collection) -> dict[str, Any]:
    url = f"/collections/{collection.id}"
    item_parameters = [_crs_parameter("crs", "The CRS of the response's coordinates."),
                       {"name": "featureId", "in": "path", "required": True,
                        "schema": {"type": "string"}}]
    if collection.temporal is Temporal.VERSIONS:
        item_parameters.append(_datetime_parameter(collection))
    return {
        url: {"get": {"summary": f"{collection.title}: the collection",
                      "operationId": f"describe_{collection.id}", "security": SIGNED_IN,
                      "responses": _responses(JSON, "collection", "the collection")}},
        f"{url}/items": {"get": {
            "summary": f"{collection.title}: features", "description": collection.description,
            "operationId": f"items_{collection.id}", "security": SIGNED_IN,
            "parameters": _items_parameters(collection),
            "responses": _responses(GEOJSON, "featureCollectionGeoJSON", "a page of features")}},
        f"{url}/items/{{featureId}}": {"get": {
            "summary": f"{collection.title}: one feature",
            "operationId": f"item_{collection.id}", "security": SIGNED_IN,
            "parameters": item_parameters,
            "responses": _responses(GEOJSON, "featureGeoJSON", "one feature")}},
    }


def _document(summary: str, operation: str, media_type: str, schema: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "operationId": operation, "responses": {"200": {
        "description": summary,
        "content": {media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}}}


SCHEMAS: dict[str, Any] = {
    "object": {"type": "object"},
    "problem": {"type": "object", "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}}},
    "collection": {"type": "object", "required": ["id", "links"]},
    "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                       "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                      "geometry": {"type": "object", "nullable": True},
                                      "properties": {"type": "object", "nullable": True},
                                      "id": {"oneOf": [{"type": "string"},
                                                       {"type": "integer"}]}}},
    "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"],
        "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                       "features": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                       "links": {"type": "array", "items": {"type": "object"}},
                       "timeStamp": {"type": "string", "format": "date-time"},
                       "numberMatched": {"type": "integer", "minimum": 0},
                       "numberReturned": {"type": "integer", "minimum": 0}}},
}


def openapi_document(base: str, collections: list[Collection],
                     cookie: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the OGC API mounted at `base`; `cookie` is the session
    cookie's name."""
    paths: dict[str, Any] = {
        "/": _document("The landing page", "landing_page", JSON, "object"),
        "/conformance": _document("Conformance classes", "conformance", JSON, "object"),
        "/api": _document("This API definition", "api", OPENAPI, "object"),
        "/collections": {"get": {**_document("The feature collections", "collections", JSON,
                                             "object")["get"], "security": SIGNED_IN}},
    }
    for collection in collections:
        paths.update(_collection_paths(collection))
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": "1.0.0",
                 "description": "Sign in with a bearer token or the session cookie."},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": cookie}}},
    }
