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


def test_the_shift_moves_the_history_end_to_the_last_such_moment_before_now() -> None:
    now = datetime(2027, 3, 5, 9, 0, tzinfo=UTC)
    shift = history_shift(now)
    assert shift % timedelta(days=1) == timedelta(0)
    assert now - timedelta(days=1) < HISTORY_ENDS + shift <= now
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
    engine.dispose()
    assert counts == {"incidents": 2, "stations": 1, "grids": 8, "accounts": 7}
    assert any("demo account gridworker: grid_worker (scope T-A-1)" in line for line in lines)
    assert not any(line.startswith("demo account") for line in again)
    assert now - timedelta(days=1) < latest <= now  # the history ends today
    assert closed == "closed"


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
