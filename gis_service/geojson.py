"""GeoJSON out: geometry text comes ready-made from PostGIS and is embedded, not re-parsed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from fastapi.responses import Response
from geoalchemy2 import functions as gfn
from sqlalchemy import ColumnElement

GEOJSON_MEDIA_TYPE = "application/geo+json"
COORDINATE_DECIMALS = 7
# OpenAPI: these endpoints answer GeoJSON
GEOJSON_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON_MEDIA_TYPE: {}}}}  # ~1 cm, finer than any boundary we hold


def geometry_json(column: Any) -> ColumnElement[str]:
    """RFC 7946 geometry text for a column: counter-clockwise outer rings, no crs member."""
    # options 0: PostGIS otherwise adds a `crs` member for any SRID but 4326 (ours is 4490)
    return gfn.ST_AsGeoJSON(gfn.ST_ForcePolygonCCW(column), COORDINATE_DECIMALS, 0)


def feature(feature_id: str, properties: Mapping[str, Any], geometry: str | None) -> dict[str, Any]:
    """One Feature whose geometry is already GeoJSON text."""
    geom = orjson.Fragment(geometry) if geometry else None
    return {"type": "Feature", "id": feature_id, "properties": dict(properties), "geometry": geom}


def collection_response(features: Iterable[dict[str, Any]]) -> Response:
    """A FeatureCollection response."""
    body = {"type": "FeatureCollection", "features": list(features)}
    return Response(orjson.dumps(body), media_type=GEOJSON_MEDIA_TYPE)


def feature_response(item: dict[str, Any]) -> Response:
    """A single Feature response."""
    return Response(orjson.dumps(item), media_type=GEOJSON_MEDIA_TYPE)
