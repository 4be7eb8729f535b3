"""What every part of the builder shares: constants, projection, rounding and stable writers."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

TOWN_CODE = "QD"
TOWN_NAME = "七都镇（演示）"
TOWN_PREFIX = "七都镇"  # what a real address of the town starts with
CST = timezone(timedelta(hours=8))
# the end of the incident history; the loader shifts times so that it becomes "now"
ANCHOR = datetime(2026, 11, 20, 18, 0, tzinfo=CST)
DIGITS = 7  # decimals of every written coordinate (about 1 cm)
GRID_SIZE = 10.0**-DIGITS

_TO_METRIC = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)  # UTM 51N
_TO_LONLAT = pyproj.Transformer.from_crs(32651, 4326, always_xy=True)


def _apply(transformer: pyproj.Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def to_metric(geometry: BaseGeometry) -> BaseGeometry:
    """Lon/lat to UTM 51N metres."""
    return shapely.transform(geometry, lambda xy: _apply(_TO_METRIC, xy))


def to_lonlat(geometry: BaseGeometry) -> BaseGeometry:
    """UTM 51N metres to lon/lat."""
    return shapely.transform(geometry, lambda xy: _apply(_TO_LONLAT, xy))


def points_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of UTM 51N metres to lon/lat arrays."""
    lon, lat = _TO_LONLAT.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def rounded(geometry: BaseGeometry) -> BaseGeometry:
    """The geometry with every coordinate rounded to the written precision."""
    return shapely.transform(geometry, lambda xy: np.round(xy, DIGITS))


def area_km2(geometry: BaseGeometry) -> float:
    """Area of a lon/lat geometry in km²."""
    return float(to_metric(geometry).area) / 1e6


def _round_coords(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DIGITS)
    if isinstance(value, list | tuple):
        return [_round_coords(v) for v in value]
    return value


def feature(geometry: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON feature with rounded coordinates."""
    shape = mapping(geometry)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": shape["type"], "coordinates": _round_coords(shape["coordinates"])},
    }


def write_geojson(path: Path, features: Sequence[dict[str, Any]]) -> None:
    """A FeatureCollection with sorted keys, one feature per line (stable, diff-friendly)."""
    lines = [json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
             for f in features]
    body = ",\n".join(lines)
    path.write_text(f'{{"type":"FeatureCollection","features":[\n{body}\n]}}\n',
                    encoding="utf-8")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A UTF-8 CSV with '\\n' line endings."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def coord(value: float) -> str:
    """A coordinate as written in CSV files."""
    return f"{value:.{DIGITS}f}"


def iso(moment: datetime) -> str:
    """ISO 8601 in China Standard Time, to the second."""
    return moment.astimezone(CST).isoformat(timespec="seconds")
