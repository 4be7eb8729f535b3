"""The demo town builder: reproducible to the byte, and its files hold together (no database)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_service.demo import HISTORY_ENDS
from grid_layers import crs as crs_module
from grid_layers.validation import GridRecord, validate_hierarchy

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "data" / "demo"
FILES = ("grids.geojson", "districts.geojson", "zones.geojson", "rivers.geojson",
         "projects.geojson", "stations.geojson", "departments.csv", "workers.csv",
         "responsibilities.csv", "zone_rules.csv", "addresses.csv", "incidents.csv",
         "patrols.geojson", "spot_checks.csv")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo town built afresh with the default seed."""
    out = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, str(ROOT / "data" / "build_demo.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    return out


def _features(path: Path) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return features


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _grids(folder: Path) -> list[dict[str, Any]]:
    return [f["properties"] | {"geometry": shape(f["geometry"])}
            for f in _features(folder / "grids.geojson")]


def _town(folder: Path) -> BaseGeometry:
    return next(g["geometry"] for g in _grids(folder) if g["level"] == 1)


@pytest.mark.parametrize("name", FILES)
def test_same_seed_gives_the_committed_bytes(built: Path, name: str) -> None:
    assert (built / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_counts(built: Path) -> None:
    grids = _grids(built)
    levels = [g["level"] for g in grids]
    assert levels.count(1) == 1 and levels.count(2) == 18 and levels.count(3) == 64
    assert sum(1 for g in grids if g["level"] is None) >= 5
    assert len(_features(built / "stations.geojson")) == 26
    assert len(_rows(built / "addresses.csv")) >= 5_000
    assert len(_rows(built / "responsibilities.csv")) >= 20
    assert len(_rows(built / "incidents.csv")) >= 20_000


def test_grids_pass_the_projects_validator(built: Path) -> None:
    records = [GridRecord(g["code"], g["name"], g["kind"], g["level"], g["parent_code"],
                          g["geometry"]) for g in _grids(built)]
    assert validate_hierarchy(records) == []


def test_addresses_and_stations_lie_in_their_village(built: Path) -> None:
    villages = {g["name"]: g["geometry"] for g in _grids(built) if g["level"] == 2}
    by_code = {g["code"]: g["geometry"] for g in _grids(built) if g["level"] == 2}
    rows = _rows(built / "addresses.csv")
    assert len({r["address"] for r in rows}) == len(rows)
    for name, village in villages.items():
        mine = [r for r in rows if r["village"] == name]
        lon = np.array([float(r["lon"]) for r in mine])
        lat = np.array([float(r["lat"]) for r in mine])
        assert mine and shapely.contains_xy(village, lon, lat).all(), name
    for station in _features(built / "stations.geojson"):
        point = shape(station["geometry"])
        assert by_code[station["properties"]["grid_code"]].contains(point)


def test_incidents_lie_in_the_town_and_use_known_categories(built: Path) -> None:
    town = _town(built)
    known = {r["category_code"] for r in _rows(built / "responsibilities.csv")}
    rows = _rows(built / "incidents.csv")
    assert {r["category"] for r in rows} <= known
    placed = [r for r in rows if r["lon"]]
    assert all(r["address"] for r in rows if not r["lon"])
    lon = np.array([float(r["lon"]) for r in placed])
    lat = np.array([float(r["lat"]) for r in placed])
    gcj = np.array([r["crs"] == "gcj02" for r in placed])
    lon[gcj], lat[gcj] = crs_module.to_storage(lon[gcj], lat[gcj], "gcj02")
    assert shapely.contains_xy(town, lon, lat).all()
    keys = [(r["source"], r["external_id"]) for r in rows]
    assert len(set(keys)) == len(keys)


def test_patrols_walk_the_workers_own_grids_in_the_last_weeks(built: Path) -> None:
    grids = {g["code"]: g["geometry"] for g in _grids(built)}
    workers = {w["code"]: w for w in _rows(built / "workers.csv") if w["role"] == "grid_worker"}
    walks = _features(built / "patrols.geojson")
    first, last = HISTORY_ENDS - timedelta(days=40), HISTORY_ENDS
    walked = set()
    for walk in walks:
        props = walk["properties"]
        worker = workers[props["worker_code"]]
        assert props["grid_code"] == worker["grid_code"]
        started = datetime.fromisoformat(props["started_at"])
        ended = datetime.fromisoformat(props["ended_at"])
        assert first <= started < ended < last
        line = shape(walk["geometry"])
        # GPS noise of a few metres may cross the grid's edge, never further
        assert grids[worker["grid_code"]].buffer(0.0003).contains(line), props
        walked.add(props["worker_code"])
    assert walked == set(workers)  # every grid worker and grid head has walked


def test_spot_checks_are_of_grid_workers_and_vary(built: Path) -> None:
    workers = {w["code"] for w in _rows(built / "workers.csv") if w["role"] == "grid_worker"}
    checks = _rows(built / "spot_checks.csv")
    assert len(checks) >= 10
    assert {c["worker_code"] for c in checks} <= workers
    assert {c["passed"] for c in checks} == {"yes", "no"}
    assert all(datetime.fromisoformat(c["checked_at"]) < HISTORY_ENDS for c in checks)
