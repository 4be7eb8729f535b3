"""`gis-service load-demo`: every file through the importers, times moved to the present,
demo accounts, idempotent, and never over another town."""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.demo import (
    HISTORY_ENDS,
    demo_town_loaded,
    history_shift,
    load_demo_town,
    shift_times,
)
from tests.town import grid_features, write_csv, write_geojson, write_town

runner = CliRunner()
INCIDENT_HEADER = ["source", "external_id", "category", "lon", "lat", "reported_at",
                   "closed_at", "resolution", "satisfaction"]


def test_the_shift_moves_the_history_end_to_now() -> None:
    now = datetime(2027, 3, 5, 9, 0, 7, 250_000, tzinfo=UTC)  # 17:00:07 China time
    shift = history_shift(now)
    assert HISTORY_ENDS + shift == now.replace(microsecond=0)  # not the last 18:00 before
    assert history_shift(HISTORY_ENDS) == timedelta(0)


def test_shift_times_moves_every_time_column_and_nothing_else(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", INCIDENT_HEADER, [
        ["grid_patrol", "E1", "GARBAGE", "120.402", "30.902", "2026-03-01T09:00:00+08:00",
         "2026-03-02T09:00:00+08:00", "service", "5"],
        ["grid_patrol", "E2", "GARBAGE", "120.402", "30.902", "2026-03-01T09:00:00+08:00",
         "", "", ""]])
    moved = shift_times(source, tmp_path / "out.csv", timedelta(days=10))
    with moved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["reported_at"] == "2026-03-11T09:00:00+08:00"
    assert rows[0]["closed_at"] == "2026-03-12T09:00:00+08:00"
    assert rows[1]["closed_at"] == "" and rows[1]["external_id"] == "E2"


def _demo_folder(tmp_path: Path) -> Path:
    """The test town laid out as a demo folder, its town grid coded as the demo's."""
    folder = tmp_path / "demo"
    folder.mkdir()
    for kind, path in write_town(tmp_path).items():
        if kind != "grids":
            shutil.copy(path, folder / {"zone_rules": "zone_rules.csv"}.get(kind, path.name))
    features = grid_features()
    for feature in features:
        props = feature["properties"]
        props["code"] = "QD" if props["code"] == "T" else props["code"]
        props["parent_code"] = "QD" if props["parent_code"] == "T" else props["parent_code"]
    write_geojson(folder / "grids.geojson", features)
    end = HISTORY_ENDS.isoformat()
    walk = {"type": "LineString", "coordinates": [[120.401, 30.911], [120.408, 30.918]]}
    write_geojson(folder / "patrols.geojson", [
        {"type": "Feature", "geometry": walk, "properties": {
            "worker_code": code, "grid_code": grid,
            "started_at": (HISTORY_ENDS - timedelta(hours=hours)).isoformat(),
            "ended_at": (HISTORY_ENDS - timedelta(hours=hours - 1)).isoformat()}}
        for code, grid, hours in (("W1", "T-A-1", 30), ("W2", "T-A-2", 8), ("W2", "T-A-2", 3))])
    write_csv(folder / "spot_checks.csv",
              ["worker_code", "checked_at", "checker", "passed", "score", "note"],
              [["W2", (HISTORY_ENDS - timedelta(days=2)).isoformat(), "dispatcher", "no",
                "45", "台账缺失"]])
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, [
        ["grid_patrol", "D1", "GARBAGE", "120.402", "30.902", end, "", "", ""],
        ["grid_patrol", "D2", "GARBAGE", "120.402", "30.902",
         (HISTORY_ENDS - timedelta(days=40)).isoformat(),
         (HISTORY_ENDS - timedelta(days=39)).isoformat(), "service", "4"]])
    return folder


def test_load_demo_loads_everything_once(scratch_url: str, tmp_path: Path) -> None:
    folder = _demo_folder(tmp_path)
    engine = create_engine(scratch_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        assert demo_town_loaded(session) is False
        lines = list(load_demo_town(session, folder, now=now))
        assert demo_town_loaded(session) is True
        again = list(load_demo_town(session, folder, now=now))
        counts = dict(session.execute(text(
            "SELECT 'incidents', count(*) FROM incident UNION ALL "
            "SELECT 'stations', count(*) FROM station UNION ALL "
            "SELECT 'grids', count(*) FROM grid_version UNION ALL "
            "SELECT 'accounts', count(*) FROM account")).all())
        latest = session.scalar(text("SELECT max(reported_at) FROM incident"))
        closed = session.scalar(text("SELECT status FROM incident WHERE external_id = 'D2'"))
        tracks = session.execute(text(
            "SELECT a.username, t.worker_code, t.started_at, t.length_m FROM patrol_track t "
            "JOIN account a ON a.id = t.account_id ORDER BY t.started_at")).all()
        positions = dict(session.execute(text(
            "SELECT a.username, p.at FROM worker_position p "
            "JOIN account a ON a.id = p.account_id")).all())
        fields = dict(session.execute(text(
            "SELECT username, worker_code FROM account WHERE password_hash IS NULL")).all())
        check = session.execute(text(
            "SELECT worker_code, checker, passed, score, checked_at FROM spot_check")).one()
    engine.dispose()
    assert counts == {"incidents": 2, "stations": 1, "grids": 8, "accounts": 10}
    assert any("demo account gridworker: grid_worker (scope T-A-1)" in line for line in lines)
    assert not any(line.startswith("demo account") for line in again)
    shift = history_shift(now)
    assert latest == HISTORY_ENDS + shift  # the history ends now, not at the last 18:00
    assert closed == "closed"
    # every grid worker without an account gets one, without a password
    assert fields == {"w2": "W2", "w3": "W3", "w4": "W4"}
    # tracks belong to the worker's account (W1's is the demo's gridworker), moved as incidents
    assert [(u, w, at) for u, w, at, _ in tracks] == [
        ("gridworker", "W1", HISTORY_ENDS + shift - timedelta(hours=30)),
        ("w2", "W2", HISTORY_ENDS + shift - timedelta(hours=8)),
        ("w2", "W2", HISTORY_ENDS + shift - timedelta(hours=3))]
    assert all(900 < length < 1100 for *_, length in tracks)  # ~1 km on the ellipsoid
    assert positions == {"gridworker": HISTORY_ENDS + shift - timedelta(hours=29),
                         "w2": HISTORY_ENDS + shift - timedelta(hours=2)}
    assert check == ("W2", "dispatcher", False, 45, HISTORY_ENDS + shift - timedelta(days=2))
    assert any("3 patrol tracks of 2 grid workers" in line for line in lines)
    assert "patrol tracks: stored before, none loaded" in again
    assert "spot checks: stored before, none loaded" in again


def test_load_demo_if_empty_leaves_another_town_alone(scratch_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    files = write_town(tmp_path)
    assert runner.invoke(app, ["import", "grids", str(files["grids"])]).exit_code == 0
    result = runner.invoke(app, ["load-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "holds another town" in result.output
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        codes = set(connection.scalars(text("SELECT code FROM grid_version WHERE level = 1")))
    engine.dispose()
    assert codes == {"T"}
