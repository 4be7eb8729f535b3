"""Writing a table to a file with GDAL (pyogrio): GeoPackage, GeoJSON (RFC 7946) or CSV.

Every format carries the stored coordinates exactly (GeoPackage as doubles, CSV as shortest
round-trip WKT, GeoJSON with 17 decimals), so that an exported file imports again as
"unchanged". GDAL's RFC 7946 default of 7 decimals (~1 cm) moved every computed vertex (where a
split line crossed an edge): importing the file back made new versions of each grid an edit
had touched, and wherever a vertex lay on a neighbour's edge without being its vertex, sliver
overlaps of ~1 m² that `import --check` refused. 16 decimals still missed 2 of 400,000
coordinates by one ulp; 17 missed none, at about 1.6 times the size of 7 (the demo town's grids).
"""

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
    # RFC 7946: counter-clockwise rings, WGS84 named (CGCS2000 lon/lat pass unchanged)
    options = {"RFC7946": "YES", "COORDINATE_PRECISION": "17"} if fmt == "geojson" else {}
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
