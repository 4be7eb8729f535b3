"""Plans as files: a draft out as GeoJSON or GeoPackage with every grid's scores (metrics) and
provenance (source version, who edited it when, changed or not), and a file back in as a new
draft holding exactly its grids.

The plan's own fields travel in the GeoJSON's top-level member `plan`, or in the GeoPackage's
attribute table `plan` beside the grid layer `plan_grids`. Free attributes travel as one JSON
text field, `attributes`, so both formats carry them alike.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyogrio
import pyogrio.raw
import shapely
from shapely.geometry import mapping
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.errors import InvalidInputError
from gis_service.exports.table import Table
from gis_service.exports.writer import write
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import current_versions
from gis_service.imports.readers import (
    InputFeature,
    UnreadableInputError,
    outside_china,
    read_vector,
)
from gis_service.plans.drafts import as_stored, plan_grids, shape_of
from gis_service.plans.impact import diff_plan
from gis_service.plans.metrics import get_plan, plan_metrics
from gis_service.plans.models import Plan, PlanGrid
from gis_service.plans.publish import problem_json
from grid_layers.hierarchy import GridRecord, Problem, shape_defect
from grid_layers.repair import Repair, repair_hierarchy
from grid_layers.wording import invalid_because

GRID_LAYER, PLAN_LAYER = "plan_grids", "plan"
MEDIA_TYPES = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}
GRID_COLUMNS = (("code", "str"), ("name", "str"), ("level", "int"), ("kind", "str"),
                ("parent_code", "str"), ("households", "int"), ("population", "int"),
                ("multipart", "int"), ("attributes", "str"), ("source_version_id", "int"),
                ("edited_by", "str"), ("edited_at", "str"), ("changed", "int"))
SCORE_COLUMNS = (("households_est", "int"), ("households_source", "str"),
                 ("address_points", "int"), ("enterprises", "int"), ("incidents_12m", "int"),
                 ("area_m2", "float"), ("perimeter_m", "float"), ("polsby_popper", "float"),
                 ("deviation", "int"), ("in_band", "int"))
PLAN_FIELDS = ("id", "name", "owner", "note", "status", "based_on_at", "source", "version",
               "band")
VALID_LEVELS = ("1", "2", "3")


@dataclass(frozen=True)
class PlanFile:
    """An exported plan: its bytes, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def export_plan(session: Session, *, plan_id: int, fmt: str, band: tuple[int, int],
                now: datetime) -> PlanFile:
    """The plan's grids with scores and provenance as a GeoJSON or GeoPackage file."""
    if fmt not in MEDIA_TYPES:
        raise InvalidInputError(f"format 须是 {'、'.join(MEDIA_TYPES)} 之一")
    plan = get_plan(session, plan_id)
    grids = plan_grids(session, plan_id)
    scores = {g["code"]: g for g in plan_metrics(session, plan_id=plan_id, band=band,
                                                 now=now)["grids"]}
    changed = _changed(session, grids)
    rows = [_row(g, scores[g.code], g.code in changed) for g in grids]
    meta = _plan_meta(plan, band, now)
    name = f"plan-{plan.id}.{fmt}"
    write_file = _geojson if fmt == "geojson" else _geopackage
    return PlanFile(write_file(meta, grids, rows), MEDIA_TYPES[fmt], name)


def _changed(session: Session, grids: list[PlanGrid]) -> set[str]:
    ids = [g.source_version_id for g in grids if g.source_version_id is not None]
    sources = list(session.scalars(select(GridVersion).where(GridVersion.id.in_(ids))))
    diff = diff_plan([g for g in grids if g.source_version_id is not None], sources)
    return {*diff.changed, *(g.code for g in grids if g.source_version_id is None)}


def _row(grid: PlanGrid, score: dict[str, Any], changed: bool) -> tuple[Any, ...]:
    in_band = score["in_band"]
    return (grid.code, grid.name, grid.level, grid.kind, grid.parent_code, grid.households,
            grid.population, int(grid.multipart),
            orjson.dumps(grid.attributes, option=orjson.OPT_SORT_KEYS).decode(),
            grid.source_version_id, grid.edited_by, grid.edited_at.isoformat(), int(changed),
            score["households"], score["households_source"], score["address_points"],
            score["enterprises"], score["incidents_12m"], score["area_m2"],
            score["perimeter_m"], score["polsby_popper"], score["deviation"],
            None if in_band is None else int(in_band))


def _plan_meta(plan: Plan, band: tuple[int, int], now: datetime) -> dict[str, Any]:
    return {"id": plan.id, "name": plan.name, "owner": plan.owner, "note": plan.note,
            "status": plan.status, "based_on_at": plan.based_on_at.isoformat(),
            "source": plan.source, "version": plan.version, "band": f"{band[0]},{band[1]}",
            "exported_at": now.isoformat()}


def _geojson(meta: dict[str, Any], grids: list[PlanGrid], rows: list[tuple[Any, ...]]) -> bytes:
    names = [name for name, _ in (*GRID_COLUMNS, *SCORE_COLUMNS)]
    features = [{"type": "Feature", "properties": dict(zip(names, row, strict=True)),
                 "geometry": mapping(shape_of(grid))}
                for grid, row in zip(grids, rows, strict=True)]
    return orjson.dumps({"type": "FeatureCollection", "plan": meta, "features": features})


def _geopackage(meta: dict[str, Any], grids: list[PlanGrid],
                rows: list[tuple[Any, ...]]) -> bytes:
    table = Table((*GRID_COLUMNS, *SCORE_COLUMNS), rows,
                  [shapely.to_wkb(shape_of(g)) for g in grids])
    with tempfile.TemporaryDirectory(prefix="plan-") as folder:
        path = Path(folder) / "plan.gpkg"
        write(path, "gpkg", table, layer=GRID_LAYER, geometry_type="MultiPolygon",
              points=False)
        arrays = [np.array([None if meta[k] is None else str(meta[k])], dtype=object)
                  for k in meta]
        pyogrio.raw.write(path, None, arrays, list(meta), layer=PLAN_LAYER, driver="GPKG",
                          append=True)
        return path.read_bytes()


def import_plan(session: Session, *, filename: str, content: bytes, owner: str,
                name: str | None, note: str | None, now: datetime,
                repair_m: float | None = None) -> tuple[Plan, list[Repair]]:
    """A new draft holding exactly the file's grids; 422 with the problems when a grid's
    shape or fields are unusable (the hierarchy itself is the validation's business). With
    `repair_m`, rings made invalid by rounding are let in and the grids repaired within that
    many metres first (the repairs are returned)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg"):
        raise InvalidInputError("请上传 .geojson 或 .gpkg 文件")
    with tempfile.TemporaryDirectory(prefix="plan-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        features, meta = _read(path, suffix)
    grids, problems = _grids(features, lenient=repair_m is not None)
    if problems:
        rings = all(_folded_ring(p) for p in problems)
        hint = "；边界自相交可在导入时“容差内修复”" if rings else ""
        raise InvalidInputError(f"文件中有 {len(problems)} 个网格无法使用{hint}",
                                problems=[problem_json(p) for p in problems], repairable=rings)
    repairs: list[Repair] = []
    if repair_m is not None:
        grids, repairs = _repaired(grids, repair_m)
    plan = Plan(name=name or str(meta.get("name") or Path(filename).stem), owner=owner,
                note=note if note is not None else str(meta.get("note") or ""),
                status="draft", based_on_at=_time(meta.get("based_on_at")) or now,
                source=f"import: {filename}"[:400], version=1, created_at=now, updated_at=now)
    session.add(plan)
    session.flush()
    known = set(session.scalars(select(GridVersion.id).where(GridVersion.id.in_(
        [g["source_version_id"] for g in grids if g["source_version_id"] is not None]))))
    # a layer exported from the live grids and edited in a desktop GIS carries no provenance:
    # its grids descend from the versions of the same code valid when the plan is based
    current = {v.code: v.id for v in current_versions(session, plan.based_on_at)}
    for grid in grids:
        if grid["source_version_id"] not in known:
            grid["source_version_id"] = current.get(grid["code"])
        session.add(PlanGrid(plan_id=plan.id, edited_at=_time(grid.pop("edited_at")) or now,
                             edited_by=grid.pop("edited_by") or owner, **grid))
    session.commit()
    return plan, repairs


def _folded_ring(problem: Problem) -> bool:
    """Whether the problem is only a ring made invalid (say, by rounding): a repair's to fix."""
    shape = problem.geometry
    return (problem.type == "invalid_geometry" and shape is not None
            and shape_defect(shape) is None and not outside_china(shape) and not shape.is_valid)


def _repaired(grids: list[dict[str, Any]],
              tolerance_m: float) -> tuple[list[dict[str, Any]], list[Repair]]:
    records = [GridRecord(g["code"], g["name"], g["kind"], g["level"], g["parent_code"],
                          g.pop("shape"), g["multipart"]) for g in grids]
    outcome = repair_hierarchy(records, tolerance_m)
    for grid, record in zip(grids, outcome.records, strict=True):
        grid["geom"] = as_stored(record.geometry)
    return grids, list(outcome.repairs)


def _read(path: Path, suffix: str) -> tuple[list[InputFeature], dict[str, Any]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the GeoPackage's second layer
            features = read_vector(path, None)
    except UnreadableInputError as exc:
        raise InvalidInputError(str(exc).replace(str(path), "上传的文件")) from exc
    if suffix == ".gpkg":
        layers = [str(layer) for layer, _ in pyogrio.list_layers(path)]
        if PLAN_LAYER not in layers:
            return features, {}
        meta, _, _, values = pyogrio.raw.read(path, layer=PLAN_LAYER, read_geometry=False)
        return features, {k: v[0] for k, v in zip(meta["fields"], values, strict=True)
                          if len(v)}
    document = json.loads(path.read_bytes())
    raw = document.get("features") if isinstance(document, dict) else None
    if isinstance(raw, list) and len(raw) == len(features):
        # GDAL reads ISO text as date-times of millisecond precision: keep the file's own
        features = [InputFeature(f.row, {**f.properties, **(r.get("properties") or {})},
                                 f.geometry) for f, r in zip(features, raw, strict=True)]
    found = document.get("plan") if isinstance(document, dict) else None
    return features, found if isinstance(found, dict) else {}


def _grids(features: list[InputFeature],
           lenient: bool = False) -> tuple[list[dict[str, Any]], list[Problem]]:
    grids: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    if not features:
        problems.append(Problem("invalid_attribute", (), 0.0, None, "文件中没有网格"))
    for feature in features:
        props, geometry = feature.properties, feature.geometry
        code = str(props.get("code") or "").strip()
        label = code or f"第 {feature.row} 行"
        trouble = _field_trouble(props, code, seen)
        if trouble:
            problems.append(Problem(trouble[0], (label,), 0.0, None, f"{label}: {trouble[1]}"))
            continue
        seen.add(code)
        defect = _shape_trouble(geometry, lenient)
        if defect:
            problems.append(Problem("invalid_geometry", (code,), 0.0, geometry,
                                    f"{code}: {defect}"))
            continue
        assert geometry is not None
        grids.append({**_grid_fields(props, code, geometry),
                      **({"shape": geometry} if lenient else {})})
    return grids, problems


def _field_trouble(props: dict[str, Any], code: str, seen: set[str]) -> tuple[str, str] | None:
    if not code or not str(props.get("kind") or "").strip():
        return "invalid_attribute", "code（编码）和 kind（类型）必填"
    if code in seen:
        return "duplicate_code", "编码重复出现"
    level = props.get("level")
    if level not in (None, "", 0) and str(_int(level)) not in VALID_LEVELS:
        return "invalid_attribute", f"层级 {level!r} 不是 1、2 或 3"
    return None


def _shape_trouble(geometry: shapely.Geometry | None, lenient: bool = False) -> str | None:
    defect = shape_defect(geometry)
    if defect is not None:
        return defect[0]
    assert geometry is not None
    if outside_china(geometry):
        return "坐标超出中国范围（经纬度写反了，还是投影坐标文件？）"
    reason = str(shapely.is_valid_reason(geometry))
    if reason == "Valid Geometry" or lenient:  # lenient: a repair will make the ring valid
        return None
    return invalid_because(reason)[0]


def _grid_fields(props: dict[str, Any], code: str,
                 geometry: shapely.Geometry) -> dict[str, Any]:
    known = {name for name, _ in (*GRID_COLUMNS, *SCORE_COLUMNS)}
    attributes = props.get("attributes")
    if isinstance(attributes, str) and attributes.strip():
        attributes = json.loads(attributes)
    if not isinstance(attributes, dict):  # a file from elsewhere: keep its other fields
        attributes = {k: v for k, v in props.items() if k not in known and v is not None}
    level = _int(props.get("level")) or None
    parent = str(props.get("parent_code") or "").strip() or None
    return {"code": code, "name": str(props.get("name") or code), "level": level,
            "kind": str(props["kind"]).strip(), "parent_code": parent,
            "households": _int(props.get("households")),
            "population": _int(props.get("population")),
            "multipart": bool(_int(props.get("multipart")) or attributes.get("multipart")),
            "attributes": attributes, "geom": as_stored(geometry),
            "source_version_id": _int(props.get("source_version_id")),
            "edited_by": str(props.get("edited_by") or "").strip(),
            "edited_at": props.get("edited_at")}


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
