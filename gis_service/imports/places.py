"""Importing districts, zones, projects and village service stations: checked whole, then
stored by code (upsert)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.cameras.models import Camera
from gis_service.database import STORAGE_SRID
from gis_service.grids.models import LayerChange
from gis_service.grids.queries import current_versions
from gis_service.imports.districts import (
    check_districts,
    repair_districts,
    repairable_districts,
)
from gis_service.imports.readers import InputFeature, outside_china, read_vector, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.places.models import District, Project, Station, Zone
from grid_layers.repair import DEFAULT_TOLERANCE_M
from grid_layers.validation import Problem

Model = type[District] | type[Zone] | type[Project] | type[Station] | type[Camera]
Rows = dict[str, dict[str, Any]]
Checker = Callable[[Session, Rows, dict[str, BaseGeometry]], list[Problem]]


def import_districts(session: Session, path: Path, *, crs: str | None = None,
                     check_only: bool = False, repair: bool = False,
                     tolerance_m: float = DEFAULT_TOLERANCE_M) -> ImportReport:
    """Enforcement districts with their squads; they tile their town without overlapping
    (with `repair`, what lies within `tolerance_m` is repaired first)."""
    return import_layer(session, path, crs, check_only, kind="districts", model=District,
                        required=("code", "name", "squad_code", "squad_name"), polygons=True,
                        partition=True, fields=lambda p: {
                            "name": str(p["name"]), "squad_code": str(p["squad_code"]),
                            "squad_name": str(p["squad_name"])},
                        repair=tolerance_m if repair else None)


def import_zones(session: Session, path: Path, *, crs: str | None = None,
                 check_only: bool = False) -> ImportReport:
    """Protection zones (overlapping is allowed: a lake zone lies inside a basin zone)."""
    return import_layer(session, path, crs, check_only, kind="zones", model=Zone,
                        required=("code", "name", "level"), polygons=True, partition=False,
                        fields=lambda p: {"name": str(p["name"]), "level": int(float(p["level"]))})


def import_projects(session: Session, path: Path, *, crs: str | None = None,
                    check_only: bool = False) -> ImportReport:
    """Key projects: any geometry, a status and the department in charge."""
    return import_layer(session, path, crs, check_only, kind="projects", model=Project,
                        required=("code", "name", "status", "department"), polygons=False,
                        partition=False, fields=lambda p: {
                            "name": str(p["name"]), "status": str(p["status"]),
                            "department_code": str(p["department"])})


def import_stations(session: Session, path: Path, *, crs: str | None = None,
                    check_only: bool = False) -> ImportReport:
    """Village service stations: points, each inside the stored grid its `grid_code` names."""
    return import_layer(session, path, crs, check_only, kind="stations", model=Station,
                        required=("code", "name", "grid_code"), polygons=False, partition=False,
                        fields=lambda p: {"name": str(p["name"]), "grid_code": str(p["grid_code"])},
                        also=_stations_in_their_grids)


def _stations_in_their_grids(session: Session, rows: Rows,
                             geometries: dict[str, BaseGeometry]) -> list[Problem]:
    grids = {g.code: to_shape(g.geom) for g in current_versions(session, datetime.now(UTC))}
    problems = []
    for code, values in rows.items():
        point, grid = geometries[code], grids.get(values["grid_code"])
        if not isinstance(point, Point):
            problems.append(row_problem("invalid_geometry", code,
                                        f"{code}: {point.geom_type}, not a point"))
        elif grid is None:
            problems.append(row_problem("orphan", code,
                                        f"{code}: no stored grid {values['grid_code']}"))
        elif not grid.covers(point):
            problems.append(row_problem("outside_parent", code,
                                        f"{code}: not inside grid {values['grid_code']}"))
    return problems


def import_layer(session: Session, path: Path, crs: str | None, check_only: bool, *, kind: str,
            model: Model, required: tuple[str, ...], polygons: bool, partition: bool,
            fields: Callable[[dict[str, Any]], dict[str, Any]],
            also: Checker | None = None, repair: float | None = None,
            optional: tuple[str, ...] = ()) -> ImportReport:
    """Check every feature (`required` columns present, `fields` reads them, the geometry),
    then `also`; store them all by code only when nothing is wrong. Columns neither required
    nor `optional` are kept as attributes."""
    features = read_vector(path, crs)
    require_columns(path, set(features[0].properties) if features else set(required), required)
    report = ImportReport(kind, str(path), len(features), checked_only=check_only)
    rows: Rows = {}
    geometries: dict[str, BaseGeometry] = {}
    for feature in features:
        problem, code, values = _check(feature, required, polygons, fields,
                                       repairing=repair is not None, optional=optional)
        if problem is not None:
            report.problems.append(problem)
        elif code in rows:
            report.problems.append(Problem("duplicate_code", (code,), 0.0, None,
                                           f"code {code} appears more than once"))
        else:
            rows[code], geometries[code] = values, _storable(feature.geometry, polygons)
    if repair is not None:
        geometries, report.repairs = repair_districts(session, geometries, repair)
        geometries = {code: _storable(shape, polygons) for code, shape in geometries.items()}
    if partition:
        report.problems += check_districts(session, geometries)
        if report.problems and repair is None:
            report.repairable = repairable_districts(session, geometries, DEFAULT_TOLERANCE_M,
                                                     report.problems)
    if also is not None:
        report.problems += also(session, rows, geometries)
    if report.problems or check_only:
        return report
    for code, values in rows.items():
        values = {**values, "geom": from_shape(geometries[code], srid=STORAGE_SRID)}
        stmt = insert(model).values(code=code, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(rows)}
    session.add(LayerChange(kind=kind, source=str(path), summary=report.counts))
    session.flush()
    return report


def _check(feature: InputFeature, required: tuple[str, ...], polygons: bool,
           fields: Callable[[dict[str, Any]], dict[str, Any]], *, repairing: bool = False,
           optional: tuple[str, ...] = ()) -> tuple[Problem | None, str, dict[str, Any]]:
    props, geometry = feature.properties, feature.geometry
    code = str(props.get("code") or "").strip()
    label = code or f"row {feature.row}"
    missing = [name for name in required if props.get(name) in (None, "")]
    if missing:
        problem = row_problem("invalid_attribute", label, f"{label}: empty {', '.join(missing)}")
        return problem, code, {}
    try:
        values = fields(props)
    except (TypeError, ValueError) as exc:
        return row_problem("invalid_attribute", label, f"{label}: {exc}"), code, {}
    if geometry is None or geometry.is_empty:
        return row_problem("invalid_geometry", label, f"{label}: no geometry"), code, {}
    if polygons and not isinstance(geometry, Polygon | MultiPolygon):
        return row_problem("invalid_geometry", label,
                           f"{label}: {geometry.geom_type}, not a polygon"), code, {}
    if not geometry.is_valid and not repairing:  # a repair makes rounded rings valid
        reason = shapely.is_valid_reason(geometry)
        return row_problem("invalid_geometry", label, f"{label}: {reason}"), code, {}
    if outside_china(geometry):
        return row_problem("invalid_geometry", label, f"{label}: coordinates outside China "
                           "(swapped lon/lat?)"), code, {}
    extra = {k: v for k, v in props.items()
             if k not in required and k not in optional and v is not None}
    return None, code, {**values, "attributes": extra}



def _storable(geometry: BaseGeometry | None, polygons: bool) -> BaseGeometry:
    assert geometry is not None
    if polygons and isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    return geometry
