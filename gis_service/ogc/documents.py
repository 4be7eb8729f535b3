"""The JSON documents of the OGC API (landing page, conformance, collections) and their links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from gis_service.ogc.collections import Collection
from gis_service.ogc.crs import CRS84, STORAGE, SUPPORTED

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)
TITLE = "Grid management and dispatch: OGC API – Features"


@dataclass(frozen=True)
class Extent:
    """A collection's lon/lat box and time span (None where unknown or open)."""

    bbox: tuple[float, float, float, float] | None
    start: datetime | None = None
    end: datetime | None = None
    temporal: bool = False


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """One link object."""
    item = {"href": href, "rel": rel, "type": media_type}
    return {**item, "title": title} if title else item


def landing_page(base: str) -> dict[str, Any]:
    """The landing page: where the API description, conformance and data are."""
    return {"title": TITLE,
            "description": "Grids, districts, protection zones, key projects, village service "
                           "stations, cameras and incidents of the town.",
            "links": [link(f"{base}/", "self", JSON, "this document"),
                      link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
                      link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
                      link(f"{base}/collections", "data", JSON, "the feature collections")]}


def conformance() -> dict[str, Any]:
    """The conformance classes the API implements."""
    return {"conformsTo": list(CONFORMANCE)}


def collection_document(collection: Collection, base: str, extent: Extent) -> dict[str, Any]:
    """What a collection is, where its items are, and which CRSs it offers."""
    url = f"{base}/collections/{collection.id}"
    document: dict[str, Any] = {
        "id": collection.id, "title": collection.title, "description": collection.description,
        "itemType": "feature", "crs": list(SUPPORTED), "storageCrs": STORAGE.uri,
        "links": [link(url, "self", JSON, collection.title),
                  link(f"{url}/items", "items", GEOJSON, f"{collection.title} (GeoJSON)")]}
    spans: dict[str, Any] = {}
    if extent.bbox is not None:
        spans["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
    if extent.temporal:
        spans["temporal"] = {"interval": [[_when(extent.start), _when(extent.end)]],
                             "trs": GREGORIAN}
    if spans:
        document["extent"] = spans
    return document


def collections_document(documents: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """Every collection."""
    return {"links": [link(f"{base}/collections", "self", JSON, "the feature collections")],
            "collections": documents, "crs": list(SUPPORTED)}


def page_links(url: str, params: dict[str, str], *, offset: int, limit: int, returned: int,
               matched: int) -> list[dict[str, str]]:
    """self, next (while features remain), prev (after the first page) and collection."""
    def at(start: int) -> str:
        query = {**params, "offset": str(start), "limit": str(limit)}
        return f"{url}?{urlencode(query)}"

    links = [link(at(offset), "self", GEOJSON, "this page")]
    if offset + returned < matched:
        links.append(link(at(offset + limit), "next", GEOJSON, "next page"))
    if offset > 0:
        links.append(link(at(max(offset - limit, 0)), "prev", GEOJSON, "previous page"))
    links.append(link(url.removesuffix("/items"), "collection", JSON, "the collection"))
    return links


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
