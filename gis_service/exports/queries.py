"""The rows of a layer to export, with their geometry as WKB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import ColumnElement, Select, select

from gis_service.exports.layers import Layer
from gis_service.grids.queries import valid_at


def select_rows(layer: Layer, *, at: datetime,
                scope: ColumnElement[bool] | None) -> Select[Any]:
    """(row, WKB) of every feature in the layer (grids: the versions valid at `at`), rings
    counter-clockwise."""
    wkb = gfn.ST_AsBinary(gfn.ST_ForcePolygonCCW(layer.model.geom))
    stmt = select(layer.model, wkb)
    if layer.versioned:
        stmt = stmt.where(valid_at(at))
    if scope is not None:
        stmt = stmt.where(scope)
    return stmt.order_by(layer.order)
