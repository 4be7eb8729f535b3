"""Importing a grid file: the file plus the grids already stored is validated as one hierarchy
before anything is written; a grid whose shape or attributes changed gets a new version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_service import locks
from gis_service.grids.models import GridVersion, LayerChange
from gis_service.grids.queries import current_versions
from gis_service.imports.readers import InputFeature, outside_china, read_vector, require_columns
from gis_service.imports.report import ImportReport
from grid_layers.hierarchy import COMPREHENSIVE, LEVELS
from grid_layers.repair import DEFAULT_TOLERANCE_M, repair_hierarchy, repairable
from grid_layers.validation import GridRecord, Problem, validate_hierarchy

REQUIRED = ("code", "name", "kind", "level", "parent_code")
KNOWN = (*REQUIRED, "households", "population", "multipart")


def import_grids(session: Session, path: Path, *, crs: str | None = None,
                 check_only: bool = False, repair: bool = False,
                 tolerance_m: float = DEFAULT_TOLERANCE_M) -> ImportReport:
    """Validate the file with the stored hierarchy (after repairing what lies within
    `tolerance_m`, with `repair`); store new versions unless rejected."""
    features = read_vector(path, crs)
    require_columns(path, set(features[0].properties) if features else set(REQUIRED), REQUIRED)
    report = ImportReport("grids", str(path), len(features), checked_only=check_only)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": locks.BOUNDARIES})
    now = datetime.now(UTC)
    stored = {g.code: g for g in current_versions(session, now)}
    records, report.problems = _records(features)
    in_file = {r.code for r in records}
    kept = [_stored_record(g) for code, g in stored.items() if code not in in_file]
    if repair:
        # stored grids take part as neighbours and parents but never move
        outcome = repair_hierarchy(records + kept, tolerance_m, fixed={g.code for g in kept})
        records = list(outcome.records[:len(records)])
        report.repairs = list(outcome.repairs)
    report.problems += validate_hierarchy(records + kept)
    report.problems.sort(key=lambda p: (p.type, p.grids))
    if report.problems and not repair:
        report.repairable = _repairable(records + kept, {g.code for g in kept}, tolerance_m,
                                        report.problems)
    if report.problems or check_only:
        return report
    report.counts = _store(session, records, features, stored, now, str(path))
    session.add(LayerChange(kind="grids", source=str(path), summary=report.counts))
    session.flush()
    return report


def _repairable(grids: list[GridRecord], fixed: set[str], tolerance_m: float,
                problems: list[Problem]) -> list[bool]:
    outcome = repair_hierarchy(grids, tolerance_m, fixed=fixed, problems=problems)
    return repairable(problems, validate_hierarchy(list(outcome.records)))


def _records(features: list[InputFeature]) -> tuple[list[GridRecord], list[Problem]]:
    records, problems = [], []
    for feature in features:
        props, geometry = feature.properties, feature.geometry
        code = str(props.get("code") or "").strip()
        label = code or f"row {feature.row}"
        kind = str(props.get("kind") or "").strip()
        level, level_problem = _level(props.get("level"), kind)
        if not code or not kind or level_problem:
            problems.append(Problem("invalid_attribute", (label,), 0.0, None,
                                    f"{label}: code and kind are required; {level_problem}"
                                    .rstrip("; ")))
            continue
        if geometry is not None and not geometry.is_empty and outside_china(geometry):
            problems.append(Problem("invalid_geometry", (code,), 0.0, None,
                                    f"{code}: coordinates outside China (swapped lon/lat, or a "
                                    "projected file without its CRS?)"))
            continue
        records.append(GridRecord(
            code=code, name=str(props.get("name") or code), kind=kind, level=level,
            parent_code=str(props.get("parent_code") or "").strip() or None,
            geometry=geometry if geometry is not None else shapely.Polygon(),
            multipart_allowed=_truthy(props.get("multipart"))))
    return records, problems


def _level(value: Any, kind: str) -> tuple[int | None, str]:
    if value is None or str(value).strip() == "":
        return None, ""
    try:
        number = float(value)
    except ValueError:
        return None, f"level {value!r} is not a number"
    if number == 0 and kind != COMPREHENSIVE:
        # integer columns (GeoPackage, Shapefile) cannot be empty: a special grid's 0 = none;
        # a comprehensive grid's 0 is the county
        return None, ""
    if number not in LEVELS:
        return None, f"level {value!r} is not 0, 1, 2 or 3"
    return int(number), ""


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "是")


def _stored_record(grid: GridVersion) -> GridRecord:
    return GridRecord(code=grid.code, name=grid.name, kind=grid.kind, level=grid.level,
                      parent_code=grid.parent_code, geometry=_shape(grid),
                      multipart_allowed=bool(grid.attributes.get("multipart")))


def _shape(grid: GridVersion) -> BaseGeometry:
    return shapely.from_wkb(bytes(grid.geom.data))


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value in (None, "") else int(float(value))
    except ValueError:
        return None


def _store(session: Session, records: list[GridRecord], features: list[InputFeature],
           stored: dict[str, GridVersion], now: datetime, source: str) -> dict[str, int]:
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    props_by_code = {str(f.properties.get("code")).strip(): f.properties for f in features}
    for record in records:
        props = props_by_code[record.code]
        geometry = _multi(record.geometry)
        attributes = {k: v for k, v in props.items() if k not in REQUIRED and v is not None
                      and k not in ("households", "population")}
        fields = {"name": record.name, "level": record.level, "kind": record.kind,
                  "parent_code": record.parent_code,
                  "households": _int_or_none(props.get("households")),
                  "population": _int_or_none(props.get("population")),
                  "attributes": attributes}
        current = stored.get(record.code)
        if current is not None and _same(current, fields, geometry):
            counts["unchanged"] += 1
            continue
        if current is not None:
            current.valid_to = now
            counts["changed"] += 1
        else:
            counts["new"] += 1
        session.flush()  # close the old period before the new one opens (exclusion constraint)
        session.add(GridVersion(code=record.code, version=_next_version(session, record.code),
                                geom=from_shape(geometry, srid=4490), valid_from=now,
                                source=source, **fields))
    session.flush()
    return counts


def _multi(geometry: BaseGeometry) -> MultiPolygon:
    return geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])


def _same(current: GridVersion, fields: dict[str, Any], geometry: MultiPolygon) -> bool:
    if any(getattr(current, name) != value for name, value in fields.items()):
        return False
    return bool(shapely.equals_exact(shapely.normalize(_shape(current)),
                                     shapely.normalize(geometry), tolerance=0.0))


def _next_version(session: Session, code: str) -> int:
    latest = session.scalar(select(GridVersion.version).where(GridVersion.code == code)
                            .order_by(GridVersion.version.desc()).limit(1))
    return (latest or 0) + 1
