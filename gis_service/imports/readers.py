"""Reading input files: any vector format GDAL reads (via pyogrio) or CSV; coordinates end up
in the storage CRS."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from shapely.geometry.base import BaseGeometry

from gis_service.database import STORAGE_SRID
from grid_layers import crs as crs_module
from grid_layers.hierarchy import MAX_FEATURES_PER_FILE, MAX_VERTICES_PER_GEOMETRY

CHINA_BOUNDS = crs_module.CHINA_BOUNDS  # outside it coordinates are swapped or wrong


class UnreadableInputError(Exception):
    """The file cannot be read or lacks what its kind needs (CLI exit code 2)."""


@dataclass(frozen=True)
class InputFeature:
    """One row of an input file: its 1-based row number, attributes and geometry."""

    row: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None


def read_vector(path: Path, crs: str | None) -> list[InputFeature]:
    """Features of a vector file (a CSV's geometry: a WKT column, or `lon` and `lat`
    columns), geometry converted to storage lon/lat.

    `crs` (wgs84, cgcs2000, gcj02, bd09) says what the coordinates are; without it the file's
    own declared CRS is used (projected files are reprojected), and wgs84 when it has none.
    """
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    try:
        counted = pyogrio.read_info(path).get("features", 0)
        if counted > MAX_FEATURES_PER_FILE:
            raise UnreadableInputError(f"{path}: {counted:,} features, more than the "
                                       f"{MAX_FEATURES_PER_FILE:,} one file may hold")
        options = _csv_options(path) if path.suffix.lower() == ".csv" else {}
        meta, _, wkb, field_data = pyogrio.raw.read(path, **options)
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise UnreadableInputError(f"{path}: not a readable vector file ({exc})") from exc
    if wkb is None:
        raise UnreadableInputError(f"{path}: the file has no geometry")
    geometries = shapely.from_wkb(wkb)
    vertices = shapely.get_num_coordinates(geometries)
    if len(vertices) and int(vertices.max()) > MAX_VERTICES_PER_GEOMETRY:
        row = int(vertices.argmax()) + 1
        raise UnreadableInputError(
            f"{path}: feature {row} has {int(vertices.max()):,} vertices, more than the "
            f"{MAX_VERTICES_PER_GEOMETRY:,} one geometry may have (simplify it first)")
    geometries = _to_storage(geometries, meta.get("crs"), crs)
    names = _untruncated(list(meta["fields"]))
    columns = [np.asarray(values, dtype=object).tolist() for values in field_data]
    features = []
    for i, geometry in enumerate(geometries):
        properties = {name: _plain(column[i]) for name, column in zip(names, columns, strict=True)}
        features.append(InputFeature(i + 1, properties, geometry))
    return features


def _csv_options(path: Path) -> dict[str, str]:
    """How GDAL reads a CSV's geometry: its WKT column, else points from `lon` and `lat`
    columns (the contract's CSV coordinates); either way not kept as attributes beside it."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = {name.strip().lower() for name in next(csv.reader(handle), [])}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableInputError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    options = {"KEEP_GEOM_COLUMNS": "NO"}
    if "wkt" not in header and {"lon", "lat"} <= header:
        options |= {"X_POSSIBLE_NAMES": "lon", "Y_POSSIBLE_NAMES": "lat"}
    return options


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file with a header (a BOM is tolerated)."""
    if not path.exists():
        raise UnreadableInputError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableInputError(f"{path}: not a UTF-8 CSV file ({exc})") from exc
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in rows]


def require_columns(path: Path, present: set[str], required: tuple[str, ...]) -> None:
    """UnreadableInputError naming the required columns the file lacks."""
    missing = [name for name in required if name not in present]
    if missing:
        raise UnreadableInputError(f"{path}: missing required column(s): {', '.join(missing)}")


def outside_china(geometry: BaseGeometry) -> bool:
    """True when any part of the geometry lies outside the lon/lat box around China."""
    minx, miny, maxx, maxy = geometry.bounds
    west, south, east, north = CHINA_BOUNDS
    return bool(minx < west or maxx > east or miny < south or maxy > north)


def _to_storage(geometries: np.ndarray, declared: str | None, crs: str | None) -> np.ndarray:
    if crs is not None:
        name = crs_module.normalize_crs(crs)
        if name in ("wgs84", "cgcs2000"):
            return geometries
        return shapely.transform(geometries, lambda xy: _obfuscated_to_storage(xy, name))
    if not declared:
        return geometries
    source = pyproj.CRS.from_user_input(declared)
    if source.is_geographic:
        return geometries  # WGS84 / CGCS2000 lon/lat: the same to within centimetres
    transformer = pyproj.Transformer.from_crs(source, STORAGE_SRID, always_xy=True)
    return shapely.transform(geometries, lambda xy: np.column_stack(
        transformer.transform(xy[:, 0], xy[:, 1])))


def _obfuscated_to_storage(xy: np.ndarray, name: str) -> np.ndarray:
    lon, lat = crs_module.to_storage(xy[:, 0].copy(), xy[:, 1].copy(), name)
    return np.column_stack([lon, lat])


# Shapefile (dBase) field names are cut to 10 characters; give the contract's names back.
CONTRACT_FIELDS = ("parent_code", "households", "population", "squad_code", "squad_name",
                   "department")


def _untruncated(names: list[str]) -> list[str]:
    restored = []
    for name in names:
        lowered = name.lower()
        full = [f for f in CONTRACT_FIELDS if len(lowered) == 10 and f.startswith(lowered)]
        restored.append(full[0] if full and full[0] not in names else lowered)
    return restored


def _plain(value: Any) -> Any:
    """numpy scalars and NaN to plain Python values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
