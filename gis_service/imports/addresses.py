"""Importing address points (CSV `address,lon,lat` + optional parts) with COPY and progress."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service import sql_files
from gis_service.imports.readers import CHINA_BOUNDS, read_csv, require_columns
from gis_service.imports.report import ImportReport
from grid_layers import crs as crs_module
from grid_layers.validation import Problem

PARTS = ("village", "road", "number", "poi")
COPY_SQL = ("COPY address_point (address, village, road, number, poi, attributes, geom) "
            "FROM STDIN")


def import_addresses(session: Session, path: Path, *, crs: str | None = None,
                     check_only: bool = False, progress: bool = False) -> ImportReport:
    """Check every row, then replace the points whose address text is in the file."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else {"address", "lon", "lat"},
                    ("address", "lon", "lat"))
    report = ImportReport("addresses", str(path), len(rows), checked_only=check_only)
    lon = np.full(len(rows), np.nan)
    lat = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        line = i + 2
        try:
            lon[i], lat[i] = float(row["lon"]), float(row["lat"])
        except ValueError:
            report.problems.append(_bad(line, f"line {line}: lon/lat are not numbers"))
            continue
        if not row["address"]:
            report.problems.append(_bad(line, f"line {line}: empty address"))
        west, south, east, north = CHINA_BOUNDS
        if not (west <= lon[i] <= east and south <= lat[i] <= north):
            report.problems.append(_bad(line, f"line {line}: {lon[i]},{lat[i]} is outside "
                                        "China (swapped lon/lat?)"))
    if report.problems or check_only:
        return report
    x, y = crs_module.to_storage(lon, lat, crs_module.normalize_crs(crs or "wgs84"))
    session.execute(text("DELETE FROM address_point WHERE address = ANY(:addresses)"),
                    {"addresses": [row["address"] for row in rows]})
    connection = sql_files.driver(session)
    xs, ys = x.tolist(), y.tolist()
    with connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        for i, row in enumerate(tqdm(rows, desc="addresses", unit="row", disable=not progress)):
            extra = {k: v for k, v in row.items() if k not in ("address", "lon", "lat", *PARTS)}
            copy.write_row((row["address"], *(row.get(p) or None for p in PARTS),
                            json.dumps(extra, ensure_ascii=False),
                            f"SRID=4490;POINT({xs[i]!r} {ys[i]!r})"))
    report.counts = {"stored": len(rows)}
    return report


def _bad(line: int, message: str) -> Problem:
    return Problem("invalid_attribute", (f"line {line}",), 0.0, None, message)
