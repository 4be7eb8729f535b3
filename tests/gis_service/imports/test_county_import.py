"""A county grid (level 0) above the towns: imported through the grid importer, validated as
the parent its towns tile, stored, and named by the locator; a GeoPackage's 0 in the level
column stays "no level" for a special grid."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis_service.grids.models import GridVersion
from gis_service.imports.service import run_import
from gis_service.locate.service import LocatorCache
from tests.town import X0, X2, Y0, Y2, box, grid_features, write_geojson

EAST = 120.44  # a second town east of the test town, to 120.44


def county_features() -> list[dict]:
    """The test town and a second town under the county "C"."""
    features = grid_features()
    for feature in features:
        if feature["properties"]["code"] == "T":
            feature["properties"]["parent_code"] = "C"
    # the county carries its towns' corners as vertices (noded), as real data should
    county = {"type": "Polygon", "coordinates": [[[X0, Y0], [X2, Y0], [EAST, Y0], [EAST, Y2],
                                                   [X2, Y2], [X0, Y2], [X0, Y0]]]}
    second = [("U", "邻镇(测试)", 1, "C"), ("U-A", "邻村", 2, "U"), ("U-A-1", "邻村一组", 3, "U-A")]
    features += [{"type": "Feature", "geometry": box(X2, Y0, EAST, Y2),
                  "properties": {"code": c, "name": n, "kind": "comprehensive", "level": lv,
                                 "parent_code": p}} for c, n, lv, p in second]
    features.append({"type": "Feature", "geometry": county,
                     "properties": {"code": "C", "name": "吴江区(测试)", "kind": "comprehensive",
                                    "level": 0, "parent_code": None}})
    return features


def test_a_county_imports_and_the_locator_names_it(
        db_session: Session, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    report = run_import(db_session, "grids", write_geojson(tmp_path / "c.geojson",
                                                           county_features()))
    assert report.accepted, report.lines()
    db_session.commit()
    levels = dict(db_session.execute(select(GridVersion.code, GridVersion.level)).all())
    assert levels["C"] == 0 and levels["T"] == 1 and levels["U"] == 1
    snapshot = LocatorCache(session_factory, refresh_seconds=0).current()
    inside = snapshot.where(120.43, 30.91)
    assert (inside.county, inside.town, inside.grid3) == ("C", "U", "U-A-1")
    assert snapshot.locate_point(120.402, 30.902)["county"] == {"code": "C", "name": "吴江区(测试)"}
    assert snapshot.where(121.0, 31.0).county is None


def test_a_county_its_towns_leave_uncovered_is_refused(db_session: Session,
                                                       tmp_path: Path) -> None:
    # the county reaches 120.45, its towns only 120.44 (a 1 km strip nobody covers)
    features = county_features()
    for feature in features:
        if feature["properties"]["code"] == "C":
            feature["geometry"] = box(X0, Y0, 120.45, Y2)
    report = run_import(db_session, "grids", write_geojson(tmp_path / "c.geojson", features))
    assert not report.accepted
    # the gap is the county's, named with the town beside it
    assert [(p.type, p.grids) for p in report.problems] == [("gap", ("C", "U"))]
    assert db_session.scalar(select(GridVersion.code)) is None  # nothing stored


def test_the_locate_api_answers_the_county(client: TestClient, db_session: Session,
                                           tmp_path: Path, auth: dict[str, str]) -> None:
    report = run_import(db_session, "grids", write_geojson(tmp_path / "c.geojson",
                                                           county_features()))
    assert report.accepted, report.lines()
    db_session.commit()
    one = client.get("/api/v1/locate", params={"lon": 120.43, "lat": 30.91}, headers=auth)
    assert one.status_code == 200 and one.json()["county"]["code"] == "C"
    many = client.post("/api/v1/locate", headers=auth, params={"fields": "county,town"},
                       json={"points": [[120.43, 30.91], [121.0, 31.0]]})
    assert many.json() == {"county": ["C", None], "town": ["U", None]}


def test_level_0_of_a_special_grid_means_none(db_session: Session, tmp_path: Path) -> None:
    # integer columns (GeoPackage, Shapefile) cannot be empty: a special grid's 0 is no level
    features = grid_features()
    for feature in features:
        if feature["properties"]["code"] == "S-SCHOOL":
            feature["properties"]["level"] = 0
    report = run_import(db_session, "grids", write_geojson(tmp_path / "g.geojson", features))
    assert report.accepted, report.lines()
    stored = db_session.scalar(select(GridVersion.level).where(GridVersion.code == "S-SCHOOL"))
    assert stored is None
