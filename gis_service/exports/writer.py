"""Writing a table to a file with GDAL (pyogrio): GeoPackage, GeoJSON (RFC 7946) or CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

from gis_service.database import STORAGE_SRID
from gis_service.exports.table import Table, field_arrays

FORMATS = {  # format -> media type
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
}
STORAGE_CRS = f"EPSG:{STORAGE_SRID}"


def write(path: Path, fmt: str, table: Table, *, layer: str, geometry_type: str,
          points: bool) -> None:
    """Write `table` as `fmt` to `path`."""
    if fmt == "csv":
        _write_csv(path, table, layer=layer, points=points)
        return
    arrays, masks = field_arrays(table)
    options = {"RFC7946": "YES"} if fmt == "geojson" else {}  # CCW rings, WGS84, 7 decimals
    pyogrio.raw.write(path, np.array(table.geometries, dtype=object), arrays,
                      [name for name, _ in table.columns], field_mask=masks, layer=layer,
                      driver="GPKG" if fmt == "gpkg" else "GeoJSON",
                      geometry_type=geometry_type, crs=STORAGE_CRS, promote_to_multi=False,
                      layer_options=options)


def _write_csv(path: Path, table: Table, *, layer: str, points: bool) -> None:
    """Attributes, then lon/lat columns (points) or a WKT column (other geometries)."""
    arrays, masks = field_arrays(table)
    names = [name for name, _ in table.columns]
    geometries = shapely.from_wkb(np.array(table.geometries, dtype=object))
    if points:
        arrays += [shapely.get_x(geometries), shapely.get_y(geometries)]  # NaN when missing
        names += ["lon", "lat"]
    else:
        arrays.append(shapely.to_wkt(geometries, rounding_precision=-1))
        names.append("wkt")
    masks += [None] * (len(names) - len(masks))
    # a byte-order mark lets spreadsheet programs see UTF-8 (the importer skips it)
    pyogrio.raw.write(path, None, arrays, names, field_mask=masks, layer=layer, driver="CSV",
                      layer_options={"WRITE_BOM": "YES"})
