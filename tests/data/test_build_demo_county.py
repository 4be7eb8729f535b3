"""The demo county builder: reproducible to the byte, and the county holds together with the
demo town's grids (no database)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_service.demo import COUNTY_FILES, HISTORY_ENDS
from gis_service.people.team_roles import TEAM_PREFIX
from grid_layers import crs as crs_module
from grid_layers.validation import GridRecord, validate_hierarchy

ROOT = Path(__file__).resolve().parents[2]
TOWN = ROOT / "data" / "demo"
COMMITTED = ROOT / "data" / "county"
FILES = (*COUNTY_FILES.values(), "accounts.csv", "patrols.geojson", "spot_checks.csv")
NEIGHBOURS = ("ZZ", "PW", "TY")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The county built afresh with the default seed."""
    out = tmp_path_factory.mktemp("county")
    subprocess.run([sys.executable, str(ROOT / "data" / "build_demo_county.py"), "--out",
                    str(out)], check=True, capture_output=True, timeout=120)
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


def _county(folder: Path) -> list[dict[str, Any]]:
    """Every grid as stored after load-demo: the town's, its outline as the county states it."""
    mine = _grids(folder)
    restated = {g["code"] for g in mine}
    return [g for g in _grids(TOWN) if g["code"] not in restated] + mine


def _town_of(grids: list[dict[str, Any]]) -> dict[str, str]:
    """The town each grid belongs to (itself for a town)."""
    parent = {g["code"]: g["parent_code"] for g in grids}
    level = {g["code"]: g["level"] for g in grids}
    towns = {}
    for code in parent:
        current: str | None = code
        while current is not None and level[current] not in (0, 1):
            current = parent[current]
        if current is not None and level[current] == 1:
            towns[code] = current
    return towns


@pytest.mark.parametrize("name", FILES)
def test_same_seed_gives_the_committed_bytes(built: Path, name: str) -> None:
    assert (built / name).read_bytes() == (COMMITTED / name).read_bytes(), name


def test_the_county_validates_with_the_towns_grids(built: Path) -> None:
    grids = _county(built)
    records = [GridRecord(g["code"], g["name"], g["kind"], g["level"], g["parent_code"],
                          g["geometry"]) for g in grids]
    assert validate_hierarchy(records) == []
    levels = Counter(g["level"] for g in grids)
    assert levels[0] == 1 and levels[1] == 4
    towns = {g["code"]: g for g in grids if g["level"] == 1}
    assert {t["parent_code"] for t in towns.values()} == {"WJ"}
    county = next(g["geometry"] for g in grids if g["level"] == 0)
    union = shapely.union_all([t["geometry"] for t in towns.values()])
    assert shapely.equals(county, union)


def test_qidu_is_restated_unchanged_under_the_county(built: Path) -> None:
    town = next(f for f in _features(TOWN / "grids.geojson") if f["properties"]["code"] == "QD")
    restated = next(f for f in _features(built / "grids.geojson")
                    if f["properties"]["code"] == "QD")
    assert restated["geometry"] == town["geometry"]
    assert restated["properties"] == town["properties"] | {"parent_code": "WJ"}
    departments = {r["code"]: r for r in _rows(built / "departments.csv")}
    for row in _rows(TOWN / "departments.csv"):
        assert departments[row["code"]] == row | {"tier": "town", "town_code": "QD"}
    duties = {r["category_code"]: r for r in _rows(built / "responsibilities.csv")
              if r["town_code"] == "QD"}
    assert [duties[r["category_code"]] == r | {"town_code": "QD"}
            for r in _rows(TOWN / "responsibilities.csv")] == [True] * 25


def _in_km2(geometry: BaseGeometry) -> float:
    lat = geometry.centroid.y
    return float(geometry.area) * 111.32 ** 2 * np.cos(np.radians(lat))


def test_every_town_has_its_grids_people_and_reports(built: Path) -> None:
    grids = _grids(built)
    town_of = _town_of(_county(built))
    outlines = {g["code"]: g["geometry"] for g in grids if g["level"] == 1}
    districts = _features(built / "districts.geojson")
    departments = _rows(built / "departments.csv")
    workers = _rows(built / "workers.csv")
    rows = _rows(built / "incidents.csv")
    lon = np.array([float(r["lon"] or "nan") for r in rows])
    lat = np.array([float(r["lat"] or "nan") for r in rows])
    gcj = np.array([r["crs"] == "gcj02" for r in rows])
    lon[gcj], lat[gcj] = crs_module.to_storage(lon[gcj], lat[gcj], "gcj02")
    for code in NEIGHBOURS:
        outline = outlines[code]
        assert 40 <= _in_km2(outline) <= 120, code
        mine = [g for g in grids if town_of.get(g["code"]) == code]
        per_village = Counter(g["parent_code"] for g in mine if g["level"] == 3)
        assert len(per_village) >= 10 and set(per_village.values()) <= {2, 3, 4, 5}, code
        held = [d for d in districts if outline.contains(shape(d["geometry"]).point_on_surface())]
        assert 1 <= len(held) <= 2, code
        assert sum(1 for d in departments if d["town_code"] == code and d["tier"] == "town") >= 5
        cells = {g["code"] for g in mine if g["level"] == 3}
        posts = [w for w in workers if w["grid_code"] in cells]
        assert {w["grid_code"] for w in posts} == cells and len(posts) == len(cells), code
        centers = [w for w in workers if w["role"] == "dispatcher"
                   and w["department_code"] == f"{code}-JD"]
        assert len(centers) == 2 and any(w["on_duty"] == "yes" for w in centers), code
        reports = [k for k, r in enumerate(rows) if r["external_id"].startswith(f"{code}-")]
        assert 2_000 <= len(reports) < 5_000, code
        placed = [k for k in reports if rows[k]["lon"]]
        assert shapely.contains_xy(outline, lon[placed], lat[placed]).all(), code
    codes = [w["code"] for w in workers] + [w["code"] for w in _rows(TOWN / "workers.csv")]
    assert len(set(codes)) == len(codes)
    off = sum(1 for w in workers if w["on_duty"] == "no") / len(workers)
    assert 0.02 <= off <= 0.1


def test_every_neighbour_grid_worker_walks_their_grid_and_some_are_checked(
        built: Path) -> None:
    grids = {g["code"]: g["geometry"] for g in _grids(built)}
    workers = {w["code"]: w for w in _rows(built / "workers.csv") if w["role"] == "grid_worker"}
    first, last = HISTORY_ENDS - timedelta(days=40), HISTORY_ENDS
    walked = set()
    for walk in _features(built / "patrols.geojson"):
        props = walk["properties"]
        assert props["grid_code"] == workers[props["worker_code"]]["grid_code"], props
        started = datetime.fromisoformat(props["started_at"])
        assert first <= started < datetime.fromisoformat(props["ended_at"]) < last
        # GPS noise of a few metres may cross the grid's edge, never further
        assert grids[props["grid_code"]].buffer(0.0003).contains(shape(walk["geometry"]))
        walked.add(props["worker_code"])
    assert walked == set(workers)  # every grid worker and grid head of every neighbour
    checks = _rows(built / "spot_checks.csv")
    logins = {"ZZ": "zhenze", "PW": "pingwang", "TY": "taoyuan"}
    for code in NEIGHBOURS:
        mine = [c for c in checks if c["worker_code"].startswith(f"GW-{code}-")]
        assert len(mine) >= 10 and {c["passed"] for c in mine} == {"yes", "no"}, code
        assert {c["checker"] for c in mine} == {logins[code], "county_commander"}, code
    assert {c["worker_code"] for c in checks} <= set(workers)
    assert all(datetime.fromisoformat(c["checked_at"]) < HISTORY_ENDS for c in checks)


def test_reports_are_like_the_towns(built: Path) -> None:
    rows = _rows(built / "incidents.csv")
    town = _rows(TOWN / "incidents.csv")
    assert {r["category"] for r in rows} == {r["category"] for r in town}
    assert {r["source"] for r in rows} == {r["source"] for r in town}
    assert all(r["address"] for r in rows if not r["lon"])
    keys = [(r["source"], r["external_id"]) for r in rows + town]
    assert len(set(keys)) == len(keys)
    parents = [r["parent_ticket_id"] for r in rows + town if r["parent_ticket_id"]]
    assert len(set(parents)) == len(parents)  # the county numbers every town's tickets
    ends = max(datetime.fromisoformat(r["reported_at"]) for r in rows)
    assert HISTORY_ENDS - timedelta(days=1) < ends <= HISTORY_ENDS
    closed = [r for r in rows if r["closed_at"]]
    assert 0.95 * len(rows) < len(closed) < len(rows)
    assert {r["resolution"] for r in closed} == {"service", "management", "enforcement"}
    assert any(r["satisfaction"] for r in closed)


def test_the_duties_keep_to_their_tiers(built: Path) -> None:
    departments = {r["code"]: r for r in _rows(built / "departments.csv")}
    rows = _rows(built / "responsibilities.csv")
    county_wide = [r for r in rows if not r["town_code"]]
    town_rows = {r["category_code"] for r in _rows(TOWN / "responsibilities.csv")}
    assert {r["category_code"] for r in county_wide} == town_rows
    for row in rows:
        named = [row["department_code"], *row["cooperating"].split(";")]
        # a grid team's role (team:police) names people where the matter lies, no department
        for code in (c for c in named if c and not c.startswith(TEAM_PREFIX)):
            department = departments[code]
            assert department["tier"] == "county" or department["town_code"] == row["town_code"]
    assert any(r["handler"] == "county" for r in rows)
    assert any(r["town_code"] and departments.get(r["department_code"], {}).get("tier") == "county"
               and any(departments.get(c, {}).get("town_code") == r["town_code"]
                       for c in r["cooperating"].split(";") if c) for r in rows)
    for code in NEIGHBOURS:
        assert sum(1 for r in rows if r["town_code"] == code) >= 2
