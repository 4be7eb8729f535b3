"""Answering the OGC API: collections with their extents, pages of features, one feature."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import NotFoundError
from gis_service.incidents.scope import visible
from gis_service.ogc import documents, queries
from gis_service.ogc.collections import COLLECTIONS, Collection
from gis_service.ogc.crs import Crs
from gis_service.ogc.documents import Extent
from gis_service.ogc.params import parse_item_query, parse_items_query


@dataclass(frozen=True)
class FeatureAnswer:
    """A GeoJSON body and the CRS its coordinates are in."""

    body: dict[str, Any]
    crs: Crs


def find_collection(collection_id: str) -> Collection:
    """The collection of that id; NotFoundError otherwise."""
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFoundError(f"no collection {collection_id!r}; collections are "
                            f"{', '.join(COLLECTIONS)}")
    return collection


def _scope(collection: Collection, principal: Principal) -> ColumnElement[bool]:
    return visible(principal) if collection.scoped else true()


def describe(session: Session, principal: Principal, collection: Collection, base: str,
             now: datetime | None = None) -> dict[str, Any]:
    """The collection document, with the extent of what the caller may see now."""
    now = now or datetime.now(UTC)
    where = [_scope(collection, principal), *queries.time_conditions(collection, None, now)]
    west, south, east, north = session.execute(queries.select_extent(collection, where)).one()
    bbox = None if west is None else (west, south, east, north)
    extent = Extent(bbox)
    time_query = queries.select_time_extent(collection, [_scope(collection, principal)])
    if time_query is not None:
        start, end = session.execute(time_query).one()
        extent = Extent(bbox, start, end, temporal=True)
    return documents.collection_document(collection, base, extent)


def list_collections(session: Session, principal: Principal, base: str) -> dict[str, Any]:
    """Every collection's document."""
    now = datetime.now(UTC)
    return documents.collections_document(
        [describe(session, principal, c, base, now) for c in COLLECTIONS.values()], base)


def _feature(collection: Collection, row: Any, geometry: str | None) -> dict[str, Any]:
    key = getattr(row, collection.key.key)
    return {"type": "Feature", "id": key, "properties": collection.properties(row),
            "geometry": orjson.Fragment(geometry) if geometry else None}


def items(session: Session, principal: Principal, collection: Collection,
          params: Sequence[tuple[str, str]], url: str) -> FeatureAnswer:
    """A page of features matching the request's parameters, with paging links."""
    query = parse_items_query(collection, params)
    now = datetime.now(UTC)
    where = [_scope(collection, principal),
             *queries.time_conditions(collection, query.time, now),
             *queries.item_conditions(collection, filters=query.filters, bbox=query.bbox)]
    matched = session.scalar(queries.select_count(collection, where)) or 0
    rows = session.execute(queries.select_page(collection, where, query.crs, limit=query.limit,
                                               offset=query.offset))
    features = [_feature(collection, row, geometry) for row, geometry in rows]
    kept = {name: value for name, value in params if name not in ("offset", "limit")}
    body = {"type": "FeatureCollection", "features": features, "numberMatched": matched,
            "numberReturned": len(features),
            "timeStamp": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "links": documents.page_links(url, kept, offset=query.offset, limit=query.limit,
                                          returned=len(features), matched=matched)}
    return FeatureAnswer(body, query.crs)


def item(session: Session, principal: Principal, collection: Collection, feature_id: str,
         params: Sequence[tuple[str, str]], base: str, url: str) -> FeatureAnswer:
    """One feature the caller may see; NotFoundError otherwise."""
    crs, time = parse_item_query(collection, params)
    key = collection.parse_id(feature_id)
    where = [_scope(collection, principal),
             *queries.time_conditions(collection, time, datetime.now(UTC))]
    row = None if key is None else session.execute(
        queries.select_one(collection, key, where, crs)).first()
    if row is None:
        raise NotFoundError(f"no feature {feature_id!r} in {collection.id}")
    body = _feature(collection, row[0], row[1])
    collection_url = f"{base}/collections/{collection.id}"
    body["links"] = [documents.link(url, "self", documents.GEOJSON, "this feature"),
                     documents.link(collection_url, "collection", documents.JSON,
                                    collection.title)]
    return FeatureAnswer(body, crs)
