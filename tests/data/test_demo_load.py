"""The demo town and the county around it as a third party's data set, loaded end to end with
`gis-service load-demo`: every layer lands, every incident is routed to the handler its files
name — worked out here independently from the files with shapely, not with the service's code
— the histories verify, and a second load stores nothing."""

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
COUNTY = DEMO.parent / "county"
# the first test here may be the one that loads the demo for the session (~3 min on a
# quiet machine, more on a busy one): more time than a test usually gets
pytestmark = pytest.mark.timeout(900)

runner = CliRunner()


def _features(name: str, folder: Path = DEMO) -> list[dict[str, Any]]:
    return list(json.loads((folder / name).read_text(encoding="utf-8"))["features"])


def _rows(name: str, folder: Path = DEMO) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _both(name: str) -> list[dict[str, str]]:
    """The town's rows and the county's."""
    return _rows(name) + _rows(name, COUNTY)


def _grids() -> list[dict[str, Any]]:
    """Every grid feature as stored: the town's, its outline as the county states it."""
    county = _features("grids.geojson", COUNTY)
    restated = {f["properties"]["code"] for f in county}
    return [f for f in _features("grids.geojson") if f["properties"]["code"] not in restated
            ] + county


@pytest.fixture(scope="module")
def module_scratch_url(demo_copy: str) -> str:
    """This module's database: a copy of the session's loaded demo."""
    return demo_copy


@pytest.fixture(scope="module")
def loaded(demo_template: tuple[str, str],
           module_scratch_url: str) -> Iterator[tuple[Engine, list[str]]]:
    """The demo loaded by the command (the session's load, copied), and loaded again:
    (engine, the two outputs)."""
    outputs = [demo_template[1]]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", module_scratch_url)
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
    in_town = "parent_code IN (SELECT code FROM grid_version WHERE parent_code = 'QD') AND "
    levels = Counter(f["properties"]["level"] for f in _grids())
    assert _count(engine, grids + "level = 0 AND parent_code IS NULL") == 1
    assert _count(engine, grids + "level = 1 AND parent_code = 'WJ'") == 4
    assert _count(engine, grids + "level = 2 AND parent_code = 'QD'") == 18
    assert _count(engine, grids + in_town + "level = 3") == 64
    assert _count(engine, grids + "level = 2") == levels[2] > 18
    assert _count(engine, grids + "level = 3") == levels[3] > 64
    assert _count(engine, grids + "level IS NULL") >= 5
    assert 3 <= _count(engine, "SELECT count(*) FROM district WHERE code LIKE 'QD-%'") <= 4
    assert _count(engine, "SELECT count(*) FROM district") == 3 + len(
        _features("districts.geojson", COUNTY))
    assert _count(engine, "SELECT count(*) FROM station") == 26
    assert _count(engine, "SELECT count(*) FROM project") >= 8
    assert _count(engine, "SELECT count(*) FROM zone WHERE level IN (1, 2, 3)") == 3
    assert _count(engine, "SELECT count(*) FROM address_point") >= 5000
    assert _count(engine, "SELECT count(*) FROM category WHERE town_code IS NULL") >= 20
    assert _count(engine, "SELECT count(*) FROM category") == len(
        _rows("responsibilities.csv", COUNTY))
    assert _count(engine, "SELECT count(*) FROM department") == len(
        _rows("departments.csv", COUNTY))
    # the history's reports; the day of camera events folds into incidents of its own
    assert _count(engine, "SELECT count(*) FROM incident WHERE camera_code IS NULL") == len(
        _both("incidents.csv"))
    assert _count(engine, "SELECT count(DISTINCT town_code) FROM incident") == 4
    assert _count(engine, "SELECT count(*) FROM incident "
                          "WHERE reported_at > now() - interval '30 days'") > 500
    assert _count(engine, "SELECT count(*) FROM worker WHERE role = 'grid_worker'") >= 64


@pytest.mark.parametrize("folder", [DEMO, COUNTY], ids=["town", "county"])
def test_the_loader_knows_where_the_history_ends(folder: Path) -> None:
    ends = max(datetime.fromisoformat(row["reported_at"])
               for row in _rows("incidents.csv", folder))
    assert HISTORY_ENDS - timedelta(days=1) < ends <= HISTORY_ENDS


def _shift(engine: Engine) -> timedelta:
    """How far the load moved the files' times: the newest report, stored against written."""
    with engine.connect() as connection:
        stored = connection.scalar(text("SELECT max(reported_at) FROM incident"))
    written = max(datetime.fromisoformat(row["reported_at"]) for row in _both("incidents.csv"))
    return stored - written


def test_today_has_its_reports_up_to_this_hour(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    shift, now = _shift(engine), datetime.now(UTC)
    with engine.connect() as connection:
        latest = connection.scalar(text("SELECT max(reported_at) FROM incident"))
        today = dict(connection.execute(text(
            "SELECT source || '/' || external_id, reported_at FROM incident "
            "WHERE reported_at >= date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') "
            "AT TIME ZONE 'Asia/Shanghai' AND camera_code IS NULL")).all())
    # the newest report came in minutes before the load, not at the last 18:00
    assert now - timedelta(minutes=30) < latest <= now
    midnight = datetime.combine(now.astimezone(CHINA_TIME).date(), datetime.min.time(),
                                CHINA_TIME)
    expected = {f"{r['source']}/{r['external_id']}" for r in _both("incidents.csv")
                if datetime.fromisoformat(r["reported_at"]) + shift >= midnight}
    assert set(today) == expected  # every report of today so far, at its moved time


def test_a_few_open_incidents_are_overdue(loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    with engine.connect() as connection:
        still_open, overdue = connection.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE due_at < now() "
            "OR overdue_since IS NOT NULL) FROM incident "
            "WHERE status NOT IN ('closed', 'rejected') AND camera_code IS NULL")).one()
    assert still_open > 50
    assert 0.05 <= overdue / still_open <= 0.15, (overdue, still_open)


def test_grid_workers_have_a_month_of_tracks_and_a_last_position(
        loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    workers = {w["code"]: w["grid_code"].split("-")[0] for w in _both("workers.csv")
               if w["role"] == "grid_worker"}  # every town's, by town
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
        checks = connection.execute(text(
            "SELECT worker_code, passed FROM spot_check")).all()
    assert set(tracks) == set(workers)
    assert sum(tracks.values()) == len(_features("patrols.geojson")) + len(
        _features("patrols.geojson", COUNTY))
    assert set(positions) == set(workers)
    assert late <= datetime.now(UTC) and max(positions.values()) == late
    assert lengths[0] > 100 and lengths[1] < 20_000
    # every town's center has checked some of its grid workers, not all with a pass
    for town in ("QD", "ZZ", "PW", "TY"):
        mine = [passed for code, passed in checks if workers[code] == town]
        assert len(mine) >= 10 and set(mine) == {True, False}, town


def test_the_league_has_real_spread(loaded: tuple[Engine, list[str]],
                                    module_scratch_url: str) -> None:
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        assert client.post("/login", data={"username": "commander",
                                           "password": DEMO_PASSWORD}).status_code == 200
        # the month the history's last full days fall in, whatever day it is loaded
        month = (datetime.now(CHINA_TIME) - timedelta(days=10)).strftime("%Y-%m")
        every = client.get("/api/v1/assessment", params={"month": month}).json()["workers"]
    # every town's grid workers: each town walks and is checked as 七都 is
    assert len(every) == sum(1 for w in _both("workers.csv") if w["role"] == "grid_worker")
    for folder, town in ((DEMO, "QD"), (COUNTY, "ZZ"), (COUNTY, "PW"), (COUNTY, "TY")):
        grid_workers = {w["code"] for w in _rows("workers.csv", folder)
                        if w["role"] == "grid_worker" and w["grid_code"].startswith(f"{town}-")}
        posts = sum(1 for code in grid_workers if code.startswith("GW-"))
        league = [row for row in every if row["worker_code"] in grid_workers]
        # few ties: the history is drawn afresh relative to the day it is loaded, so a fixed
        # count of tied workers would hold some days and not others; nine in ten totals differ
        totals = Counter(row["total"] for row in league)
        assert len(league) == len(grid_workers) >= 50, (town, len(league))
        assert len(totals) >= 0.9 * len(league) and max(totals.values()) <= 3, (
            town, totals.most_common(5))
        coverage = [row["coverage_share"] for row in league if row["coverage_share"] is not None]
        assert len(coverage) >= posts and max(coverage) - min(coverage) > 0.3, town
        assert len({round(c, 2) for c in coverage}) > 0.63 * posts, town
    # no one earns points for what was not measured
    for row in every:
        for item in row["explain"]:
            assert item["value"] is not None or item["points"] == 0, (row["worker_code"], item)


def test_a_second_load_stores_nothing(loaded: tuple[Engine, list[str]]) -> None:
    _, (first, second) = loaded
    assert "demo account admin" in first and "demo account" not in second
    assert "demo account zhenze: dispatcher (scope ZZ)" in first
    assert any(line.endswith("grid workers (county)") for line in first.splitlines())
    assert "patrol tracks (county): stored before, none loaded" in second
    assert "spot checks (county): stored before, none loaded" in second
    for folder in (DEMO, COUNTY):
        incidents = len(_rows("incidents.csv", folder))
        assert f"{incidents} incidents row(s) imported: 0 stored, {incidents} already stored" \
            in second
    grids = len(_grids())
    assert f"{grids} grids row(s) imported: {grids} new" in first
    assert f"{grids} grids row(s) imported: 0 new, 0 changed, {grids} unchanged" in second


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


class _County:
    """Where a point falls and who is on duty, from the demo files alone: the town's and the
    county's (a town's own duty rows override the county-wide ones there)."""

    def __init__(self) -> None:
        grids = _grids()
        self.towns = self._layer([f for f in grids if f["properties"]["level"] == 1])
        self.county = next(f["properties"]["code"] for f in grids
                           if f["properties"]["level"] == 0)
        self.grid3 = self._layer([f for f in grids if f["properties"]["level"] == 3])
        self.grid2 = self._layer([f for f in grids if f["properties"]["level"] == 2])
        districts = _features("districts.geojson") + _features("districts.geojson", COUNTY)
        self.districts = self._layer(districts)
        self.squad = {f["properties"]["code"]: f["properties"]["squad_code"] for f in districts}
        self.workers = {w["code"]: w for w in _both("workers.csv")}
        self.rules = {(r["category_code"], r["town_code"]): r
                      for r in _rows("responsibilities.csv", COUNTY)}

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

    def town_at(self, lon: float, lat: float) -> str | None:
        """The town a point lies in."""
        return self._at(self.towns, shapely.Point(lon, lat))

    def rule(self, category: str, town: str) -> dict[str, str]:
        """The duty of a category in a town: its own row, else the county-wide one."""
        return self.rules.get((category, town)) or self.rules[(category, "")]

    def expected(self, category: str, lon: float, lat: float) -> tuple[str, str]:
        """(assignee type, code) the files name for this matter at this point."""
        point = shapely.Point(lon, lat)
        town = self._at(self.towns, point)
        assert town is not None, (lon, lat)
        rule = self.rule(category, town)
        if rule["handler"] == "department":
            return "department", rule["department_code"]
        if rule["handler"] == "county":
            return "county", self.county
        if rule["handler"] == "squad":
            district = self._at(self.districts, point)
            return ("squad", self.squad[district]) if district else ("town", town)
        if rule["handler"] == "grid":
            for layer in (self.grid3, self.grid2):
                worker = self._grid_post(self._at(layer, point))
                if worker:
                    return "grid_worker", worker
        return "town", town


def test_every_incident_goes_to_the_handler_the_files_name(
        loaded: tuple[Engine, list[str]]) -> None:
    engine, _ = loaded
    county = _County()
    with engine.connect() as connection:
        # the first dispatch is the routing decision (escalations come later)
        rows = connection.execute(text(
            "SELECT i.category_code, i.lon, i.lat, e.after->>'assignee_type', "
            "e.after->>'assignee_code' FROM incident i JOIN incident_event e "
            "ON e.incident_id = i.id AND e.action = 'dispatch' AND e.actor = 'system'")).all()
    assert len(rows) > 0.9 * len(_both("incidents.csv"))
    wrong: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for category, lon, lat, kind, code in rows:
        kinds[kind] += 1
        if county.expected(category, lon, lat) != (kind, code):
            wrong[category] += 1
    assert not wrong, wrong
    assert {"grid_worker", "squad", "department", "town", "county"} <= set(kinds)
    backups = sum(1 for w in county.workers.values()
                  if w["role"] == "grid_worker" and not county._on_duty(w["code"]))
    assert backups > 0  # the data exercises the B posts


def test_a_demo_account_signs_in_and_reads_the_town(
        loaded: tuple[Engine, list[str]], module_scratch_url: str) -> None:
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
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
                                 "AND status NOT IN ('closed', 'rejected') AND town_code = 'QD'")
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
    with serving(create_app(settings)) as origin, chromium_page() as (page, traffic):
        sign_in(page, origin, "commander", DEMO_PASSWORD)
        # the county with its four towns' outlines; the town's name opens the town's wall
        page.wait_for_selector("path.wall-grid1")
        assert page.locator("path.wall-grid1").count() == 4
        page.goto(f"{origin}/?town=QD")
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


def _in_zhenze_outside_taihu() -> tuple[float, float]:
    """A point of 震泽 (ZZ) in none of the Taihu zones whose rules add cooperating bodies."""
    zones = [shape(f["geometry"]) for f in _features("zones.geojson")
             if f["properties"]["level"] in (1, 2)]
    for feature in _features("grids.geojson", COUNTY):
        props = feature["properties"]
        if props["level"] == 3 and props["code"].startswith("ZZ-"):
            point = shape(feature["geometry"]).point_on_surface()
            if not any(zone.covers(point) for zone in zones):
                return point.x, point.y
    raise AssertionError("no grid of ZZ outside the Taihu zones")


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD},
                         follow_redirects=False)
    assert answer.status_code < 400, answer.text


def test_a_report_in_a_neighbour_town_goes_to_its_handlers(
        loaded: tuple[Engine, list[str]], module_scratch_url: str) -> None:
    county = _County()
    qidu = {r["code"] for r in _rows("departments.csv")}
    lon, lat = _in_zhenze_outside_taihu()
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
    with TestClient(create_app(settings)) as client:
        _sign_in(client, "zhenze")
        answers = {}
        for category in ("GARBAGE", "PARKING", "ROAD-DAMAGE", "POLLUTION", "ILLEGAL-LAND",
                         "FLOOD", "FOOD-SAFETY"):
            answer = client.post("/api/v1/incidents", json={
                "source": "walk_in", "external_id": f"TEST-ZZ-{category}",
                "category": category, "description": "测试：震泽镇的上报",
                "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
            assert answer.status_code == 201, answer.text
            answers[category] = answer.json()
    for category, incident in answers.items():
        assignee = (incident["assignee"]["type"], incident["assignee"]["code"])
        assert incident["town"] == "ZZ"
        assert assignee == county.expected(category, lon, lat), category
        assert assignee[1] not in qidu and not set(incident["cooperating"]) & qidu, incident
    assert answers["GARBAGE"]["assignee"]["code"].startswith("GW-ZZ-")
    assert answers["PARKING"]["assignee"]["code"].startswith("ZZ-SQ-")
    assert answers["ROAD-DAMAGE"]["assignee"]["code"] == "ZZ-JS"  # 震泽's own row
    assert answers["POLLUTION"]["assignee"]["code"] == "WJ-STJ"  # a county department
    assert "ZZ-SL" in answers["POLLUTION"]["cooperating"]  # with 震泽's water station
    assert answers["FOOD-SAFETY"]["assignee"]["code"] == "WJ-SJJ"  # the county-wide row
    assert (answers["ILLEGAL-LAND"]["assignee"]["type"],
            answers["ILLEGAL-LAND"]["assignee"]["code"]) == ("county", "WJ")
    assert (answers["FLOOD"]["assignee"]["type"],
            answers["FLOOD"]["assignee"]["code"]) == ("town", "ZZ")


def test_the_county_center_sees_every_town_a_town_center_its_own(
        loaded: tuple[Engine, list[str]], module_scratch_url: str) -> None:
    settings = Settings(database_url=module_scratch_url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
    towns = ("QD", "ZZ", "PW", "TY")

    def seen(client: TestClient, town: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 500} | ({"grid": town} if town else {})
        answer = client.get("/api/v1/incidents", params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    with TestClient(create_app(settings)) as client:
        _sign_in(client, "county")
        for town in towns:
            items = seen(client, town)
            assert items and {i["town"] for i in items} == {town}, town
        for username, own in (("zhenze", "ZZ"), ("pingwang", "PW"), ("taoyuan", "TY"),
                              ("qidu", "QD")):
            _sign_in(client, username)
            assert seen(client, own) and {i["town"] for i in seen(client)} == {own}, username
            for town in towns:
                if town != own:
                    assert seen(client, town) == [], (username, town)
        # the county departments' stationed staff: each town center sees its own, the county
        # center all of them, to rate as the department
        _sign_in(client, "county")
        staff = client.get("/api/v1/assessment/stationed",
                           params={"month": datetime.now(CHINA_TIME).strftime("%Y-%m")}).json()
        assert sorted((s["town_code"], s["may_rate"] == ["county"]) for s in staff["staff"]) == [
            ("PW", True), ("PW", True), ("TY", True), ("TY", True), ("ZZ", True), ("ZZ", True)]
        _sign_in(client, "zhenze")
        staff = client.get("/api/v1/assessment/stationed",
                           params={"month": datetime.now(CHINA_TIME).strftime("%Y-%m")}).json()
        assert {(s["department_code"], tuple(s["may_rate"])) for s in staff["staff"]} == {
            ("WJ-GAJ", ("town",))}
