"""`gis-service import cameras`: GB/T 28181 codes checked and decoded, positions inside a town,
the file rejected whole on any problem, stored by code as the other layers are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cameras.models import Camera
from gis_service.cli import app
from gis_service.grids.models import LayerChange
from gis_service.imports.service import run_import
from tests.gis_service.cameras.conftest import CAMERAS, EAST, WEST, write_cameras
from tests.town import write_town


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Camera)) or 0)


def test_cameras_are_decoded_and_stored(db_session: Session, cameras: Path) -> None:
    west = db_session.scalars(select(Camera).where(Camera.code == WEST)).one()
    assert (west.division, west.industry, west.device_type, west.network) == (
        "32050900", "00", "132", "0")
    assert (west.name, west.direction, west.ptz_type, west.owner) == (
        "西村路口", 90.0, 1, "七都派出所")
    assert west.attributes == {}  # the contract's columns are not kept twice
    east = db_session.scalars(select(Camera).where(Camera.code == EAST)).one()
    assert (east.device_type, east.direction, east.ptz_type) == ("131", None, 3)
    x, y = db_session.execute(select(func.ST_X(Camera.geom), func.ST_Y(Camera.geom))
                              .where(Camera.code == WEST)).one()
    assert (round(x, 6), round(y, 6)) == (120.402, 30.902)
    change = db_session.scalars(select(LayerChange).order_by(LayerChange.id.desc())).first()
    assert change is not None and change.kind == "cameras"


def test_a_second_file_updates_by_code(db_session: Session, cameras: Path,
                                       tmp_path: Path) -> None:
    moved = [[WEST, "西村路口（新）", "120.403", "30.903", "180", "", ""]]
    report = run_import(db_session, "cameras", write_cameras(tmp_path, moved, "again.csv"))
    assert report.accepted, report.lines()
    west = db_session.scalars(select(Camera).where(Camera.code == WEST)).one()
    assert (west.name, west.direction, west.ptz_type, west.owner) == (
        "西村路口（新）", 180.0, None, None)
    assert _count(db_session) == 2


def test_bad_codes_are_refused_by_name_and_nothing_is_stored(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    rows = [
        CAMERAS[0],
        ["3205090000132000003", "少一位", "120.405", "30.905", "", "", ""],
        ["32050900001180000004", "录像机", "120.405", "30.905", "", "", ""],
        ["3205090000132000000X", "带字母", "120.405", "30.905", "", "", ""],
        ["99050900001320000006", "无此省", "120.405", "30.905", "", "", ""],
        ["32050900001320000007", "方向错", "120.405", "30.905", "400", "", ""],
        ["32050900001320000008", "云台错", "120.405", "30.905", "", "turret", ""],
    ]
    report = run_import(db_session, "cameras", write_cameras(tmp_path, rows))
    assert not report.accepted
    said = {p.grids[0]: p.message for p in report.problems}
    assert set(said) == {"3205090000132000003", "32050900001180000004",
                         "3205090000132000000X", "99050900001320000006",
                         "32050900001320000007", "32050900001320000008"}
    assert "19 digits, a GB/T 28181 code has 20" in said["3205090000132000003"]
    assert "device type 118 (NVR) is not a camera" in said["32050900001180000004"]
    assert "not made of digits only" in said["3205090000132000000X"]
    assert "names no province" in said["99050900001320000006"]
    assert "direction 400 is not within 0–360" in said["32050900001320000007"]
    assert "is no PTZ type" in said["32050900001320000008"]
    assert all(message.startswith(code) for code, message in said.items())
    assert _count(db_session) == 0  # the good row was not stored either


def test_a_camera_outside_every_town_is_refused_with_its_code(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    outside = ["32050900001320000009", "湖心", "120.45", "30.95", "", "", ""]
    report = run_import(db_session, "cameras", write_cameras(tmp_path, [CAMERAS[0], outside]))
    assert not report.accepted
    assert [(p.type, p.grids) for p in report.problems] == [
        ("outside_parent", ("32050900001320000009",))]
    assert "camera 32050900001320000009 at 120.450000,30.950000 lies outside every town" in (
        report.problems[0].message)
    assert not any("m²" in line for line in report.lines())  # a point has no area to report
    assert _count(db_session) == 0


def test_duplicates_and_missing_names_are_refused(db_session: Session, town: dict[str, Path],
                                                  tmp_path: Path) -> None:
    rows = [CAMERAS[0], CAMERAS[0], ["32050900001320000010", "", "120.41", "30.91", "", "", ""]]
    report = run_import(db_session, "cameras", write_cameras(tmp_path, rows))
    assert sorted(p.type for p in report.problems) == ["duplicate_code", "invalid_attribute"]


def test_any_vector_file_of_points_and_other_crs(db_session: Session, town: dict[str, Path],
                                                 tmp_path: Path) -> None:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.41, 30.91]},
                 "properties": {"code": "32050900001320000011", "name": "镇中心",
                                "direction_type": 6, "installer": "某公司"}},
                {"type": "Feature",
                 "geometry": {"type": "LineString", "coordinates": [[120.41, 30.91],
                                                                    [120.411, 30.911]]},
                 "properties": {"code": "32050900001320000012", "name": "线"}}]
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = run_import(db_session, "cameras", path)
    assert [(p.type, p.grids) for p in report.problems] == [
        ("invalid_geometry", ("32050900001320000012",))]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features[:1]}))
    assert run_import(db_session, "cameras", path).accepted
    stored = db_session.scalars(select(Camera)).one()
    assert stored.direction == 45.0 and stored.attributes == {"installer": "某公司"}
    # GCJ-02 (Amap) coordinates are moved to the storage CRS
    gcj = write_cameras(tmp_path, [["32050900001320000013", "高德", "120.415", "30.905",
                                    "", "", ""]], "gcj.csv")
    assert run_import(db_session, "cameras", gcj, crs="gcj02").accepted
    x = db_session.scalar(select(func.ST_X(Camera.geom))
                          .where(Camera.code == "32050900001320000013"))
    assert x is not None and 120.409 < x < 120.4115  # ~500 m west of the Amap position


def test_the_command_line_names_the_refused_codes(scratch_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    files = write_town(tmp_path)
    assert runner.invoke(app, ["import", "grids", str(files["grids"])]).exit_code == 0
    bad = write_cameras(tmp_path, [CAMERAS[0], ["32050900001180000004", "录像机", "120.405",
                                                "30.905", "", "", ""]], "bad.csv")
    refused = runner.invoke(app, ["import", "cameras", str(bad)])
    assert refused.exit_code == 1, refused.output
    assert "32050900001180000004" in refused.output and "not a camera" in refused.output
    good = write_cameras(tmp_path, CAMERAS, "good.csv")
    imported = runner.invoke(app, ["import", "cameras", str(good)])
    assert imported.exit_code == 0, imported.output
    assert "2 cameras row(s) imported" in imported.output
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM camera")) == 2
    engine.dispose()
