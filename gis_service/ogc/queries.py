"""SQL of the OGC API: the conditions an items request sets, pages, counts and extents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import ColumnElement, Select, func, null, select

from gis_service.database import STORAGE_SRID
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.grids.queries import valid_at
from gis_service.ogc.collections import Collection, Temporal
from gis_service.ogc.crs import Crs
from gis_service.ogc.params import Box, TimeFilter


def geometry_text(column: Any, crs: Crs) -> ColumnElement[str]:
    """GeoJSON geometry text in `crs`: outer rings counter-clockwise (on the ground), axes in
    the CRS's order, no crs member."""
    geometry: Any = gfn.ST_ForcePolygonCCW(column)
    if crs.lat_first:
        geometry = gfn.ST_FlipCoordinates(geometry)
    return gfn.ST_AsGeoJSON(geometry, COORDINATE_DECIMALS, 0)  # options 0: no crs member


def time_conditions(collection: Collection, time: TimeFilter | None,
                    now: datetime) -> list[ColumnElement[bool]]:
    """Grids: the versions valid at the instant (now by default). Incidents: reported then."""
    if collection.temporal is Temporal.VERSIONS:
        return [valid_at(time.start if time and time.start else now)]
    if collection.temporal is Temporal.REPORTED and time is not None:
        reported = collection.model.reported_at
        bounds = [reported >= time.start if time.start else None,
                  reported <= time.end if time.end else None]
        return [b for b in bounds if b is not None]
    return []


def item_conditions(collection: Collection, *, filters: dict[str, str | int],
                    bbox: Box | None) -> list[ColumnElement[bool]]:
    """Equality on queryable properties and intersection with a lon/lat box."""
    where = [collection.queryables[name].column == value for name, value in filters.items()]
    if bbox is not None:
        envelope = gfn.ST_MakeEnvelope(*bbox, STORAGE_SRID)
        where.append(gfn.ST_Intersects(collection.model.geom, envelope))
    return where


def select_page(collection: Collection, where: list[ColumnElement[bool]], crs: Crs, *,
                limit: int, offset: int) -> Select[Any]:
    """One page of (row, geometry text), in feature id order (stable for offset paging)."""
    return (select(collection.model, geometry_text(collection.model.geom, crs))
            .where(*where).order_by(collection.key).limit(limit).offset(offset))


def select_count(collection: Collection, where: list[ColumnElement[bool]]) -> Select[Any]:
    """How many features match."""
    return select(func.count()).select_from(collection.model).where(*where)


def select_one(collection: Collection, key: Any, where: list[ColumnElement[bool]],
               crs: Crs) -> Select[Any]:
    """One feature by id, as (row, geometry text)."""
    return (select(collection.model, geometry_text(collection.model.geom, crs))
            .where(collection.key == key, *where))


def select_extent(collection: Collection, where: list[ColumnElement[bool]]) -> Select[Any]:
    """The lon/lat bounding box of the matching features (NULLs when there is none)."""
    box = func.ST_Extent(collection.model.geom)
    return select(gfn.ST_XMin(box), gfn.ST_YMin(box), gfn.ST_XMax(box),
                  gfn.ST_YMax(box)).select_from(collection.model).where(*where)


def select_time_extent(collection: Collection,
                       where: list[ColumnElement[bool]]) -> Select[Any] | None:
    """First and last moment of the collection: grid versions' validity, incidents' reports."""
    model = collection.model
    if collection.temporal is Temporal.VERSIONS:  # current versions have no end
        return select(func.min(model.valid_from), null())
    if collection.temporal is Temporal.REPORTED:
        return select(func.min(model.reported_at), func.max(model.reported_at)).where(*where)
    return None
