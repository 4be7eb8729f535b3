"""`gis-service db dump` / `db restore`: a round trip keeps every grid version, incident and
history chain; a restore never overwrites a town unless told to, and a bad file changes
nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.incidents.audit import verify_all
from tests.town import grid_features, write_csv, write_geojson, write_town

runner = CliRunner()
TABLES = ("grid_version", "district", "zone", "worker", "incident", "incident_event",
          "account")


def _invoke(url: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _snapshot(url: str) -> dict[str, object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        versions = connection.execute(text(
            "SELECT code, version, valid_from, valid_to, ST_AsText(geom) FROM grid_version "
            "ORDER BY code, version")).all()
        heads = connection.execute(text(
            "SELECT id, status, history_head FROM incident ORDER BY id")).all()
    with Session(engine) as session:
        broken = list(verify_all(session))
    engine.dispose()
    return {"counts": counts, "versions": versions, "heads": heads, "broken": broken}


def _fill(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_town(folder)
    for kind in ("grids", "districts", "zones", "projects", "stations", "departments",
                 "workers", "responsibilities", "zone_rules"):
        assert _invoke(url, "import", kind, str(files[kind]), monkeypatch=monkeypatch)[0] == 0
    renamed = copy.deepcopy(grid_features())
    renamed[3]["properties"]["name"] = "西村一组（新）"  # a second version of T-A-1
    path = write_geojson(folder / "renamed.geojson", renamed)
    assert _invoke(url, "import", "grids", str(path), monkeypatch=monkeypatch)[0] == 0
    incidents = write_csv(folder / "incidents.csv", [
        "source", "external_id", "category", "lon", "lat", "reported_at", "closed_at",
        "resolution", "satisfaction"], [
        ["grid_patrol", "K1", "GARBAGE", "120.402", "30.902", "2026-03-01T09:00:00+08:00",
         "2026-03-01T12:00:00+08:00", "service", "5"],
        ["grid_patrol", "K2", "BUILDING", "120.415", "30.915", "2026-03-02T09:00:00+08:00",
         "", "", ""]])
    assert _invoke(url, "import", "incidents", str(incidents), monkeypatch=monkeypatch)[0] == 0
    assert _invoke(url, "user", "add", "alice", "--role", "dispatcher",
                   monkeypatch=monkeypatch)[0] == 0


def test_a_dump_restores_everything(scratch_url: str, module_scratch_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(scratch_url, tmp_path, monkeypatch)
    before = _snapshot(scratch_url)
    assert before["counts"] == {**before["counts"], "incident": 2, "grid_version": 9}
    dump = tmp_path / "town.dump"
    code, output = _invoke(scratch_url, "db", "dump", str(dump), monkeypatch=monkeypatch)
    assert code == 0 and dump.stat().st_size > 0, output

    code, output = _invoke(module_scratch_url, "db", "restore", str(dump),
                           monkeypatch=monkeypatch)
    assert code == 0, output
    after = _snapshot(module_scratch_url)
    assert after == before and after["broken"] == []

    # the restored database now holds a town: a second restore must be asked for
    code, output = _invoke(module_scratch_url, "db", "restore", str(dump),
                           monkeypatch=monkeypatch)
    assert code == 1 and "--replace" in output
    code, output = _invoke(module_scratch_url, "db", "restore", str(dump), "--replace",
                           monkeypatch=monkeypatch)
    assert code == 0, output
    assert _snapshot(module_scratch_url) == before


def test_a_bad_file_changes_nothing(scratch_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_town(tmp_path)
    assert _invoke(scratch_url, "import", "grids", str(files["grids"]),
                   monkeypatch=monkeypatch)[0] == 0
    before = _snapshot(scratch_url)
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"PGDMP but not really")
    code, output = _invoke(scratch_url, "db", "restore", str(junk), "--replace",
                           monkeypatch=monkeypatch)
    assert code == 2 and "not a dump" in output
    code, _ = _invoke(scratch_url, "db", "restore", str(tmp_path / "missing.dump"),
                      monkeypatch=monkeypatch)
    assert code == 2
    assert _snapshot(scratch_url) == before
