"""The demo town as a third party's data set, loaded end to end with `gis-service load-demo`:
every layer lands, every incident is routed to the handler its files name — worked out here
independently from the files with shapely, not with the service's code — the histories
verify, and a second load stores nothing."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.config import Settings
from gis_service.demo import DEMO_PASSWORD, HISTORY_ENDS
from gis_service.incidents.audit import verify_all
from gis_service.main import create_app
from gis_service.timeutil import CHINA_TIME
from tests.map_ui.browser import ARTIFACTS, chromium_page, live_drawn, sign_in, wait_for_live
from tests.map_ui.fixtures import serving

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
runner = CliRunner()


def _features(name: str) -> list[dict[str, Any]]:
    return list(json.loads((DEMO / name).read_text(encoding="utf-8"))["features"])


def _rows(name: str) -> list[dict[str, str]]:
    with (DEMO / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def loaded(module_scratch_url: str) -> Iterator[tuple[Engine, list[str]]]:
    """The demo town loaded by the command into a database of its own: (engine, outputs)."""
    outputs = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", module_scratch_url)
        for _ in range(2):
            result = runner.invoke(app, ["load-demo"])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    engine = create_engine(module_scratch_url)
    yield engine, outputs
    engine.dispose()


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(sql)) or 0)


def test_every_layer_is_loaded(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    grids = "SELECT count(*) FROM grid_version WHERE valid_to IS NULL AND "
    assert _count(engine, grids + "level = 1") == 1
    assert _count(engine, grids + "level = 2") == 18
    assert _count(engine, grids + "level = 3") == 64
    assert _count(engine, grids + "level IS NULL") >= 5
    assert 3 <= _count(engine, "SELECT count(*) FROM district") <= 4
    assert _count(engine, "SELECT count(*) FROM station") == 26
    assert _count(engine, "SELECT count(*) FROM project") >= 8
    assert _count(engine, "SELECT count(*) FROM zone WHERE level IN (1, 2, 3)") == 3
    assert _count(engine, "SELECT count(*) FROM address_point") >= 5000
    assert _count(engine, "SELECT count(*) FROM category") >= 20
    assert _count(engine, "SELECT count(*) FROM incident") == len(_rows("incidents.csv"))
    assert _count(engine, "SELECT count(*) FROM incident "
                          "WHERE reported_at > now() - interval '30 days'") > 500
    assert _count(engine, "SELECT count(*) FROM worker WHERE role = 'grid_worker'") >= 64


def test_the_loader_knows_where_the_history_ends() -> None:
    ends = max(datetime.fromisoformat(row["reported_at"]) for row in _rows("incidents.csv"))
    assert HISTORY_ENDS - timedelta(days=1) < ends <= HISTORY_ENDS


def _shift(engine: Engine) -> timedelta:
    """How far the load moved the files' times: the newest report, stored against written."""
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT max(reported_at) FROM incident"))
    written = max(datetime.fromisoformat(row["reported_at"]) for row in _rows("incidents.csv"))
    return stored - written


def test_today_has_its_reports_up_to_this_hour(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    shift, now = _shift(engine), datetime.now(UTC)
    with engine.connect() as connection:
        latest = connection.scalar(text("SELECT max(reported_at) FROM incident"))
        today = dict(connection.execute(text(
            "SELECT source || '/' || external_id, reported_at FROM incident "
            "WHERE reported_at >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') "
            "AT TIME ZONE 'Asia/Shanghai'")).all())
    # the newest report came in minutes before the load, not at the last 18:00
    assert now - timedelta(minutes=30) < latest <= now
    midnight = datetime.combine(now.astimezone(CHINA_TIME).date(), datetime.min.time(),
                                CHINA_TIME)
    expected = {f"{r['source']}/{r['external_id']}" for r in _rows("incidents.csv")
                if datetime.fromisoformat(r["reported_at"]) + shift >= midnight}
    assert set(today) == expected  # every report of today so far, at its moved time


def test_a_few_open_incidents_are_overdue(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    with engine.connect() as connection:
        still_open, overdue = connection.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE due_at < now() "
            "OR overdue_since IS NOT NULL) FROM incident "
            "WHERE status NOT IN ('closed', 'rejected')")).one()
    assert still_open > 50
    assert 0.05 <= overdue / still_open <= 0.15, (overdue, still_open)


def test_grid_workers_have_a_month_of_tracks_and_a_last_position(
        loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    workers = {w["code"] for w in _rows("workers.csv") if w["role"] == "grid_worker"}
    with engine.connect() as connection:
        tracks = dict(connection.execute(text(
            "SELECT t.worker_code, count(*) FROM patrol_track t JOIN account a "
            "ON a.id = t.account_id AND a.worker_code = t.worker_code "
            "WHERE t.started_at > now() - interval '41 days' GROUP BY 1")).all())
        late = connection.scalar(text("SELECT max(ended_at) FROM patrol_track"))
        positions = dict(connection.execute(text(
            "SELECT a.worker_code, p.at FROM worker_position p "
            "JOIN account a ON a.id = p.account_id")).all())
        lengths = connection.execute(text(
            "SELECT min(length_m), max(length_m) FROM patrol_track")).one()
    assert set(tracks) == workers and sum(tracks.values()) == len(_features("patrols.geojson"))
    assert set(positions) == workers
    assert late <= datetime.now(UTC) and max(positions.values()) == late
    assert lengths[0] > 100 and lengths[1] < 20_000


def test_the_league_has_real_spread(loaded: tuple[Engine, list[str]],
                                    module_scratch_url: str) -> None:
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.post("/login", data={"username": "commander",
                                           "password": DEMO_PASSWORD}).status_code == 200
        # the month the history's last full days fall in, whatever day it is loaded
        month = (datetime.now(CHINA_TIME) - timedelta(days=10)).strftime("%Y-%m")
        league = client.get("/api/v1/assessment", params={"month": month}).json()["workers"]
    # few ties: the history is drawn afresh relative to the day it is loaded, so a fixed count
    # of tied workers would hold some days and not others; nine in ten totals differ
    totals = Counter(row["total"] for row in league)
    assert len(league) == 82, len(league)
    assert len(totals) >= 0.9 * len(league) and max(totals.values()) <= 3, totals.most_common(5)
    coverage = [row["coverage_share"] for row in league if row["coverage_share"] is not None]
    assert len(coverage) >= 64 and max(coverage) - min(coverage) > 0.3
    assert len({round(c, 2) for c in coverage}) > 40
    # no one earns points for what was not measured
    for row in league:
        for item in row["explain"]:
            assert item["value"] is not None or item["points"] == 0, (row["worker_code"], item)


def test_a_second_load_stores_nothing(loaded: tuple[Engine, list[str]]) -> None:
    _, (first, second) = loaded
    assert "demo account admin" in first and "demo account" not in second
    incidents = len(_rows("incidents.csv"))
    assert f"{incidents} already stored" in second


def test_histories_verify(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    with Session(engine) as session:
        assert list(verify_all(session)) == []


def test_most_hotline_addresses_are_placed(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    with engine.connect() as connection:
        placed = dict(connection.execute(text(
            "SELECT lon IS NOT NULL, count(*) FROM incident WHERE lon IS NULL OR source IN "
            "('hotline_12345', 'mayor_mailbox', 'county_ticket', 'walk_in') GROUP BY 1")).all())
    assert placed.get(True, 0) / (placed.get(True, 0) + placed.get(False, 0)) >= 0.9, placed


class _Town:
    """Where a point falls and who is on duty, from the demo files alone."""

    def __init__(self) -> None:
        grids = _features("grids.geojson")
        self.town = next(f["properties"]["code"] for f in grids if f["properties"]["level"] == 1)
        self.grid3 = self._layer([f for f in grids if f["properties"]["level"] == 3])
        self.grid2 = self._layer([f for f in grids if f["properties"]["level"] == 2])
        self.districts = self._layer(_features("districts.geojson"))
        self.squad = {f["properties"]["code"]: f["properties"]["squad_code"]
                      for f in _features("districts.geojson")}
        self.workers = {w["code"]: w for w in _rows("workers.csv")}
        self.rules = {r["category_code"]: r for r in _rows("responsibilities.csv")}

    @staticmethod
    def _layer(features: list[dict[str, Any]]) -> list[tuple[str, Any]]:
        layer = [(f["properties"]["code"], shape(f["geometry"])) for f in features]
        for _, geometry in layer:
            shapely.prepare(geometry)
        return sorted(layer, key=lambda item: item[0])  # ties → the smallest code

    @staticmethod
    def _at(layer: list[tuple[str, Any]], point: Any) -> str | None:
        return next((code for code, geometry in layer if geometry.covers(point)), None)

    def _on_duty(self, code: str) -> bool:
        return self.workers[code]["on_duty"].strip().lower() in ("yes", "true", "1", "y")

    def _grid_post(self, grid: str | None) -> str | None:
        for worker in self.workers.values():
            if worker["role"] != "grid_worker" or worker["grid_code"] != grid:
                continue
            if self._on_duty(worker["code"]):
                return str(worker["code"])
            backup = worker["backup_code"]
            if backup and backup in self.workers and self._on_duty(backup):
                return backup
        return None

    def expected(self, category: str, lon: float, lat: float) -> tuple[str, str]:
        """(assignee type, code) the files name for this matter at this point."""
        rule, point = self.rules[category], shapely.Point(lon, lat)
        if rule["handler"] == "department":
            return "department", rule["department_code"]
        if rule["handler"] == "squad":
            district = self._at(self.districts, point)
            return ("squad", self.squad[district]) if district else ("town", self.town)
        if rule["handler"] == "grid":
            for layer in (self.grid3, self.grid2):
                worker = self._grid_post(self._at(layer, point))
                if worker:
                    return "grid_worker", worker
        return "town", self.town


def test_every_incident_goes_to_the_handler_the_files_name(
        loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    town = _Town()
    with engine.connect() as connection:
        # the first dispatch is the routing decision (escalations come later)
        rows = connection.execute(text(
            "SELECT i.category_code, i.lon, i.lat, e.after->>'assignee_type', "
            "e.after->>'assignee_code' FROM incident i JOIN incident_event e "
            "ON e.incident_id = i.id AND e.action = 'dispatch' AND e.actor = 'system'")).all()
    assert len(rows) > 0.9 * len(_rows("incidents.csv"))
    wrong = Counter()
    kinds = Counter()
    for category, lon, lat, kind, code in rows:
        kinds[kind] += 1
        if town.expected(category, lon, lat) != (kind, code):
            wrong[category] += 1
    assert not wrong, wrong
    assert {"grid_worker", "squad", "department", "town"} <= set(kinds)
    backups = sum(1 for w in town.workers.values()
                  if w["role"] == "grid_worker" and not town._on_duty(w["code"]))
    assert backups > 0  # the data exercises the B posts


def test_a_demo_account_signs_in_and_reads_the_town(
        loaded: tuple[Engine, list[str]], module_scratch_url: str) -> None:
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0)
    with TestClient(create_app(settings)) as client:
        signed_in = client.post("/login", data={"username": "dispatcher", "password": "demo"},
                                follow_redirects=False)
        assert signed_in.status_code < 400, signed_in.text
        stations = client.get("/api/v1/stations").json()["features"]
        assert len(stations) == 26
        for station in stations[:5]:
            lon, lat = station["geometry"]["coordinates"]
            where = client.get("/api/v1/locate", params={"lon": lon, "lat": lat,
                                                         "crs": "cgcs2000"}).json()
            assert where["grid2"]["code"] == station["properties"]["grid_code"]
        listed = client.get("/api/v1/incidents", params={"limit": 50}).json()
        assert len(listed["items"]) == 50


def test_the_wall_draws_the_demo_town_offline(loaded: tuple[Engine, list[str]],
                                              module_scratch_url: str) -> None:
    engine, _ = loaded
    open_placed = _count(engine, "SELECT count(*) FROM incident WHERE lon IS NOT NULL "
                                 "AND status NOT IN ('closed', 'rejected')")
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0)
    with serving(create_app(settings)) as origin, chromium_page() as (page, traffic):
        sign_in(page, origin, "commander", DEMO_PASSWORD)
        page.wait_for_selector("path.wall-grid3")
        wait_for_live(page)
        drawn = {name: page.locator(f"path.{name}").count()
                 for name in ("wall-grid1", "wall-grid2", "wall-grid3", "wall-special",
                              "wall-lake", "wall-project")}
        assert drawn["wall-grid1"] == 1 and drawn["wall-grid2"] == 18
        assert drawn["wall-grid3"] == 64 and drawn["wall-special"] >= 5
        assert drawn["wall-lake"] == 1 and drawn["wall-project"] >= 8
        assert live_drawn(page) == open_placed > 50
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall-demo.png"))
        for view, layer, count in (("enforcement", "wall-district", 3),
                                   ("taihu", "wall-zone", 3), ("dispatch", "wall-station", 26)):
            page.click(f".wall-view[data-view={view}]")
            assert page.locator(f"path.{layer}").count() == count, view
        page.click(".wall-view[data-view=analysis]")
        page.wait_for_selector("path.wall-heat")
        page.wait_for_function("document.body.dataset.historyTiles === 'loaded'")
        page.screenshot(path=str(ARTIFACTS / "wall-demo-analysis.png"))
    assert traffic.outside(origin) == []
    assert traffic.bad_responses == [] and traffic.failed == [] and traffic.errors == []
