"""Other vector formats and CRSs: a GeoPackage in a projected CRS, a Shapefile, CSV kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import grid_features, write_csv


def _write_vector(path: Path, driver: str, crs: str, transform: Transformer | None) -> Path:
    features = grid_features()
    geometries = [shapely.geometry.shape(f["geometry"]) for f in features]
    if transform is not None:
        geometries = [shapely.transform(g, lambda xy: np.column_stack(
            transform.transform(xy[:, 0], xy[:, 1]))) for g in geometries]
    fields = ["code", "name", "kind", "level", "parent_code"]
    columns = [np.array([f["properties"][k] if f["properties"][k] is not None else ""
                         for f in features], dtype=object) for k in fields]
    columns[3] = np.array([f["properties"]["level"] or 0 for f in features], dtype=np.int32)
    pyogrio.raw.write(path, shapely.to_wkb(geometries), columns, fields=fields,
                      geometry_type="Polygon", crs=crs, driver=driver)
    return path


def test_projected_geopackage_is_reprojected(db_session: Session, tmp_path: Path) -> None:
    to_gk = Transformer.from_crs(4490, 4549, always_xy=True)  # CGCS2000 / 3° GK CM 120E
    path = _write_vector(tmp_path / "town.gpkg", "GPKG", "EPSG:4549", to_gk)
    report = run_import(db_session, "grids", path)
    assert report.accepted, report.lines()
    xmin, ymin = db_session.execute(text(
        "SELECT ST_XMin(geom), ST_YMin(geom) FROM grid_version WHERE code = 'T'")).one()
    assert (xmin, ymin) == (pytest.approx(120.40, abs=1e-8), pytest.approx(30.90, abs=1e-8))
    levels = dict(db_session.execute(text("SELECT code, level FROM grid_version")).all())
    assert levels["S-SCHOOL"] is None  # level 0 in a typed column reads as "no level"


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_shapefile_imports(db_session: Session, tmp_path: Path) -> None:
    path = _write_vector(tmp_path / "town.shp", "ESRI Shapefile", "EPSG:4490", None)
    report = run_import(db_session, "grids", path)
    assert report.accepted, report.lines()
    assert report.counts["new"] == 8


def test_addresses_csv(db_session: Session, tmp_path: Path) -> None:
    good = write_csv(tmp_path / "a.csv", ["address", "lon", "lat", "village", "road", "number"],
                     [["西村太湖路18号", "120.402", "30.902", "西村", "太湖路", "18"],
                      ["东村渔港路3号", "120.415", "30.915", "东村", "渔港路", "3"]])
    report = run_import(db_session, "addresses", good)
    assert report.accepted and report.counts == {"stored": 2}
    again = run_import(db_session, "addresses", good)
    assert again.accepted
    count = db_session.scalar(text("SELECT count(*) FROM address_point"))
    assert count == 2  # re-importing replaces, never duplicates
    swapped = write_csv(tmp_path / "b.csv", ["address", "lon", "lat"],
                        [["西村太湖路20号", "30.902", "120.402"]])
    bad = run_import(db_session, "addresses", swapped)
    assert not bad.accepted and "swapped" in bad.problems[0].message


def test_workers_with_unknown_references_are_rejected(db_session: Session,
                                                      tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv",
                     ["code", "name", "role", "grid_code", "district_code", "department_code",
                      "backup_code", "on_duty"],
                     [["W9", "孙九", "grid_worker", "NOPE", "", "", "W10", "yes"],
                      ["W9", "孙九", "boss", "", "", "", "", "maybe"]])
    report = run_import(db_session, "workers", path)
    types = sorted(p.type for p in report.problems)
    assert types == ["duplicate_code", "invalid_attribute", "invalid_attribute", "orphan",
                     "orphan"]
