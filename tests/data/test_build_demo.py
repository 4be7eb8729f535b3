"""The demo town builder: reproducible to the byte, and its files hold together (no database)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_service.cameras import catalog
from gis_service.cameras.gbcode import decode_camera
from gis_service.cameras.scenes import SceneValues, parse
from gis_service.demo import HISTORY_ENDS
from gis_service.incidents.core.detections import Scene
from gis_service.people.team_roles import TEAM_ROLES
from grid_layers import crs as crs_module
from grid_layers.validation import GridRecord, validate_hierarchy

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "data" / "demo"
FILES = ("grids.geojson", "districts.geojson", "zones.geojson", "rivers.geojson",
         "projects.geojson", "stations.geojson", "departments.csv", "workers.csv",
         "responsibilities.csv", "zone_rules.csv", "addresses.csv", "incidents.csv",
         "patrols.geojson", "spot_checks.csv", "cameras.csv", "video_scenes.csv",
         "camera_events.csv", "grid_team.csv")
FOLD = timedelta(minutes=30)  # GIS_VIDEO_FOLD_MINUTES's default


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


def test_cameras_have_camera_codes_and_stand_on_roads_shore_and_places(built: Path) -> None:
    town = _town(built)
    cameras = _rows(built / "cameras.csv")
    assert 35 <= len(cameras) <= 45
    parts = [decode_camera(c["code"]) for c in cameras]  # raises on any code not a camera's
    assert len({p.code for p in parts}) == len(parts)
    assert len({p.serial for p in parts}) == len(parts)
    assert {p.division[:6] for p in parts} == {"320509"}  # 吴江区
    assert {p.device_type for p in parts} <= {"131", "132"}
    assert len({c["name"] for c in cameras}) == len(cameras)
    assert all(c["name"].startswith("七都镇") for c in cameras)
    assert {c["place"] for c in cameras} == {"key", "town_road", "village_road", "shore"}
    assert {"公安", "城管", "水利"} <= {c["owner"] for c in cameras}
    houses = [r for r in _rows(built / "addresses.csv") if not r["poi"]]
    tree = shapely.STRtree(shapely.points([(float(h["lon"]), float(h["lat"])) for h in houses]))
    for camera in cameras:
        point = shapely.Point(float(camera["lon"]), float(camera["lat"]))
        assert town.contains(point), camera["name"]
        assert 0 <= float(camera["direction"]) < 360 and catalog.ptz_type(camera["ptz"])
        if camera["place"] in ("town_road", "village_road"):  # between the houses of a road
            near = houses[int(tree.nearest(point))]
            assert near["road"] in camera["name"], camera["name"]
            assert _metres(point, near) < 15, camera["name"]
        if camera["place"] == "shore":
            assert town.exterior.distance(point) < 0.002, camera["name"]  # ~60 m inland


def _metres(point: shapely.Point, row: dict[str, str]) -> float:
    dx = (point.x - float(row["lon"])) * 95_600  # metres per degree of longitude at 31°N
    dy = (point.y - float(row["lat"])) * 110_900
    return float(np.hypot(dx, dy))


def test_video_scenes_name_categories_of_the_responsibility_list(built: Path) -> None:
    known = {r["category_code"] for r in _rows(built / "responsibilities.csv")}
    rows = _rows(built / "video_scenes.csv")
    scenes = [parse(SceneValues(r["scene"], r["category_code"], r["min_confidence"],
                                r["dwell_seconds"], r["needs_confirmation"]), known)
              for r in rows]
    assert all(isinstance(s, Scene) for s in scenes), scenes
    names = {r["scene"] for r in rows}
    assert {"店外经营", "暴露垃圾", "占道经营", "违规停车", "水面漂浮物", "人员聚集"} <= names
    assert {r["needs_confirmation"] for r in rows} == {"yes", "no"}


def test_camera_events_make_a_day_of_repeats_and_noise(built: Path) -> None:
    cameras = {c["code"]: c for c in _rows(built / "cameras.csv")}
    scenes = {s["scene"]: s for s in _rows(built / "video_scenes.csv")}
    events = _rows(built / "camera_events.csv")
    town = _town(built)
    assert 300 <= len(events) <= 600
    assert len({e["external_id"] for e in events}) == len(events)
    # the day before the history ends, and before its last report (which says where it ends)
    last_report = max(datetime.fromisoformat(r["reported_at"])
                      for r in _rows(built / "incidents.csv"))
    times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    low = 0
    for event in events:
        camera, scene = cameras[event["camera_code"]], scenes[event["scene"]]
        assert event["scene"] in camera["scenes"].split(";")
        at = datetime.fromisoformat(event["reported_at"])
        assert HISTORY_ENDS - timedelta(hours=24) <= at < last_report
        times[(camera["code"], scene["scene"])].append(at)
        if event["confidence"]:
            low += float(event["confidence"]) < float(scene["min_confidence"])
        if event["lon"]:
            assert town.contains(shapely.Point(float(event["lon"]), float(event["lat"])))
    assert [e["reported_at"] for e in events] == sorted(e["reported_at"] for e in events)
    # repeats of an episode come within minutes, the next episode of the pair an hour on: the
    # service folds each episode into one incident for any window from 10 to 60 minutes
    gaps = [g for seen in times.values() for g in _gaps(seen)]
    assert all(g <= timedelta(minutes=10) or g >= 2 * FOLD for g in gaps)
    episodes = sum(1 + sum(1 for g in _gaps(seen) if g > FOLD) for seen in times.values())
    repeated = Counter(len(seen) for seen in times.values())
    assert 80 <= episodes <= 250 and sum(n for n in repeated if n > 1) > 50
    assert low >= 30  # noise below its scene's confidence
    assert sum(1 for e in events if scenes[e["scene"]]["needs_confirmation"] == "yes") >= 10


def _gaps(seen: list[datetime]) -> list[timedelta]:
    return [b - a for a, b in pairwise(seen)]


def test_every_grid_has_its_team(built: Path) -> None:
    cells = {g["code"] for g in _grids(built) if g["level"] == 3}
    rows = _rows(built / "grid_team.csv")
    departments = {r["code"] for r in _rows(built / "departments.csv")}
    assert len({r["code"] for r in rows}) == len(rows)
    assert not {r["code"] for r in rows} & departments
    assert {r["role"] for r in rows} <= set(TEAM_ROLES)
    assert all(re.fullmatch(r"100[1-9][0-9]{7}", r["phone"]) for r in rows)  # rings no one
    teams: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        teams[row["grid_code"]][row["role"]] += 1
    assert set(teams) == cells
    for grid, roles in teams.items():
        assert roles["police_officer"] == roles["police_auxiliary"] == 1, grid
        assert roles["liaison"] == 1 and 2 <= roles["volunteer"] <= 4, grid
        assert sum(roles.values()) - 3 - roles["volunteer"] >= 1, grid  # 三长六员
