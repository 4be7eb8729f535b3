"""Importing cameras: a CSV with `lon`,`lat` or any vector file of points, each row a GB/T
28181 camera code (decoded: gis_service/cameras/gbcode.py), a name, and optionally the lens
`direction` (degrees; or the catalog's `direction_type` 1–8), `ptz` and `owner`. Stored by code
(upsert) as the other point layers are, with a layer change; the file is rejected whole when
any code is no camera code or any camera stands outside every town."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.cameras import catalog
from gis_service.cameras.gbcode import InvalidGbCode, decode_camera
from gis_service.cameras.models import Camera
from gis_service.grids.queries import current_versions
from gis_service.imports.places import Rows, import_layer
from gis_service.imports.report import ImportReport, row_problem
from grid_layers.validation import Problem

OPTIONAL = ("direction", "direction_type", "ptz", "owner")


def import_cameras(session: Session, path: Path, *, crs: str | None = None,
                   check_only: bool = False) -> ImportReport:
    """Cameras by their GB/T 28181 codes; each must stand inside a stored town."""
    return import_layer(session, path, crs, check_only, kind="cameras", model=Camera,
                        required=("code", "name"), optional=OPTIONAL, polygons=False,
                        partition=False, fields=_fields, also=_inside_towns)


def _fields(props: dict[str, Any]) -> dict[str, Any]:
    """A row's stored values; ValueError saying what is wrong with its code or catalog
    fields (the report names the code)."""
    try:
        parts = decode_camera(str(props["code"]))
    except InvalidGbCode as exc:
        raise ValueError(f"not a GB/T 28181 camera code: {exc}") from None
    owner = str(props.get("owner") or "").strip()
    return {"name": str(props["name"]), "division": parts.division,
            "industry": parts.industry, "device_type": parts.device_type,
            "network": parts.network,
            "direction": catalog.direction(props.get("direction"), props.get("direction_type")),
            "ptz_type": catalog.ptz_type(props.get("ptz")), "owner": owner or None,
            "updated_at": datetime.now(UTC)}


def _inside_towns(session: Session, rows: Rows,
                  geometries: dict[str, BaseGeometry]) -> list[Problem]:
    """Each camera a point inside a town (a level-1 grid) as the boundaries stand now."""
    towns = [to_shape(g.geom) for g in current_versions(session, datetime.now(UTC))
             if g.level == 1]
    for town in towns:
        shapely.prepare(town)
    problems = []
    for code in rows:
        point = geometries[code]
        if not isinstance(point, Point):
            problems.append(row_problem("invalid_geometry", code,
                                        f"{code}: {point.geom_type}, not a point"))
        elif not any(town.covers(point) for town in towns):
            hint = "" if towns else " (no town is stored: import the grids first)"
            problems.append(row_problem("outside_parent", code,
                                        f"camera {code} at {point.x:.6f},{point.y:.6f} lies "
                                        f"outside every town{hint}"))
    return problems
