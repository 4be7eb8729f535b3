"""The assessment pages: the pure builders, sign-in, scope, local assets only, and the
worker's page in Chromium (screenshot in tests/artifacts/assessment.png)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from gis_service.assessment.schemas import ItemScore, WorkerMap, WorkerScore
from map_ui.assessment_page import (
    LeagueView,
    WorkerView,
    league_page,
    sorted_rows,
    svg_map,
    worker_page,
)
from tests.gis_service.assessment.test_assessment import facts  # noqa: F401
from tests.map_ui.browser import ARTIFACTS, chromium_page
from tests.map_ui.fixtures import ADMIN_PASSWORD

Token = Callable[..., dict[str, str]]
SQUARE = {"type": "Polygon", "coordinates": [[[120.40, 30.90], [120.41, 30.90], [120.41, 30.91],
                                               [120.40, 30.91], [120.40, 30.90]]]}


def row(code: str, total: float, share: float = 0.0, rate: float | None = None) -> WorkerScore:
    item = ItemScore(item="returns", label="退回<扣分>", value=1, target=None, weight=-2,
                     points=-2, facts={"per_return": 2, "cap": 10,
                                       "incidents": [{"id": 7, "at": "x"}]})
    return WorkerScore(rank=1, worker_code=code, worker_name=f"<i>{code}</i>", grid_code="T-A-1",
                       on_duty=True, coverage_share=share, days_active=3, events_found=2,
                       events_weighted=3.0, closed=2, closed_on_time=1, on_time_rate=rate,
                       returns=1, spot_checks=0, spot_pass_rate=None, spot_mean_score=None,
                       total=total, best_total=100, explain=[item])


def local_only(page: str) -> list[str]:
    assert not re.search(r"https?://", page)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert all(s.startswith("/") for s in sources), sources
    assert "<script" not in page
    return sources


def test_the_league_builder_sorts_by_links_and_escapes() -> None:
    rows = [row("W1", 30, 0.5, 0.5), row("W2", 60, 0.1, None), row("W3", 45, 0.9, 1.0)]
    page = league_page(LeagueView(username="<admin>", month="2026-11", scheme="方案",
                                  rows=rows, sort="coverage_share", descending=True))
    local_only(page)
    assert "&lt;i&gt;W1&lt;/i&gt;" in page and "<i>W1" not in page and "&lt;admin&gt;" in page
    assert re.findall(r'data-worker="(\w+)"', page) == ["W3", "W1", "W2"]
    # the active column's link flips the order; the CSV and month picker are there
    assert 'href="/assessment?month=2026-11&amp;sort=coverage_share&amp;order=asc"' in page
    assert '/api/v1/assessment.csv?month=2026-11' in page
    assert 'type="month" name="month" value="2026-11"' in page
    assert [r.worker_code for r in sorted_rows(rows, "on_time_rate", False)] == ["W1", "W3", "W2"]
    assert [r.worker_code for r in sorted_rows(rows, "nonsense", False)] == ["W1", "W2", "W3"]


def test_the_svg_map_projects_lon_lat_into_the_box() -> None:
    walks = WorkerMap(grid=SQUARE, tracks=[{"id": 1, "started_at": "x", "geometry": {
        "type": "LineString", "coordinates": [[120.40, 30.905], [120.41, 30.905]]}}])
    svg = svg_map(walks, buffer_m=30, width=520, height=420)
    # the square is wider in degrees than on the ground: x is squeezed by cos(30.905°)
    [path] = re.findall(r'<path class="grid" d="([^"]+)"', svg)
    corners = [tuple(map(float, p.split(","))) for p in re.findall(r"[\d.]+,[\d.]+", path)]
    assert corners[0] == (16.0, 404.0) and corners[2][1] == 16.0
    assert abs(corners[1][0] - (16 + 388 * math.cos(math.radians(30.905)))) < 0.06
    [track] = re.findall(r'<polyline class="track" points="([^"]+)"', svg)
    assert track.split()[0] == "16.0,210.0"
    band = float(re.findall(r'class="band"[^>]*stroke-width="([\d.]+)"', svg)[0])
    assert abs(band - 60 / 111_320 * 38_800) < 0.2  # 60 m at 388 px per 0.01°
    assert "无网格或轨迹" in svg_map(WorkerMap(grid=None, tracks=[]), buffer_m=30)


def test_the_worker_builder_explains_each_item() -> None:
    page = worker_page(WorkerView(username="a", month="2026-11", scheme="s",
                                  score=row("W1", 30), map=WorkerMap(grid=SQUARE, tracks=[]),
                                  buffer_m=30))
    local_only(page)
    assert 'data-item="returns"' in page and "退回&lt;扣分&gt;" in page
    assert "每次扣 2 分，最多 10 分；#7" in page and '<svg id="grid-map"' in page


def test_signed_out_the_pages_send_to_the_sign_in_form(client: TestClient) -> None:
    response = client.get("/assessment?month=2026-11", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fassessment%3Fmonth%3D2026-11"
    response = client.get("/assessment/W1", follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Fassessment%2FW1"


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token}).status_code == 200


def test_the_center_sees_the_league_and_every_worker(client: TestClient,
                                                     facts: dict[str, Any]) -> None:  # noqa: F811
    assert client.post("/login", data={"username": "admin",
                                       "password": ADMIN_PASSWORD}).status_code == 200
    month = facts["month"]
    league = client.get(f"/assessment?month={month}&sort=total&order=desc")
    assert league.status_code == 200
    assert re.findall(r'data-worker="(\w+)"', league.text) == ["W1", "W2", "W3", "W4"]
    # W3 walked nothing, closed nothing and was never checked: said so, not full marks
    w3 = re.search(r'<tr data-worker="W3">(.*?)</tr>', league.text)
    assert w3 is not None and w3.group(1).count("无数据") == 3
    assert re.findall(r'class="num total">([\d.]+)<', w3.group(1)) == ["0"]
    for url in local_only(league.text):
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    page = client.get(f"/assessment/W1?month={month}")
    assert page.status_code == 200
    assert re.findall(r'data-item="(\w+)"', page.text) == [
        "coverage", "days_active", "events_found", "closure_on_time", "spot_checks", "returns"]
    score = client.get(f"/api/v1/assessment/W1?month={month}").json()
    assert f'<span class="score" id="total">{score["total"]:g}</span>' in page.text
    assert page.text.count('<polyline class="track"') == 1  # W1's own walk of this month
    assert page.text.count('<path class="grid"') == 1
    local_only(page.text)
    empty = client.get(f"/assessment/W3?month={month}").text
    for item, why in (("coverage", "本月无巡查轨迹"), ("closure_on_time", "本月无办结的交办事件"),
                      ("spot_checks", "本月无抽查")):
        cells = re.search(rf'<tr data-item="{item}">(.*?)</tr>', empty, re.S)
        assert cells is not None and "无数据" in cells.group(1) and why in cells.group(1)
        assert re.findall(r'<td class="num">([\d.-]+)</td><td>', cells.group(1)) == ["0"]
    assert "无数据的项目不得分" in empty


def test_a_grid_worker_opens_only_their_own_page(client: TestClient, facts: dict[str, Any],  # noqa: F811
                                                 token_for: Token) -> None:
    sign_in(client, facts["w1"])
    month = facts["month"]
    league = client.get(f"/assessment?month={month}")
    assert re.findall(r'data-worker="(\w+)"', league.text) == ["W1"]
    assert client.get(f"/assessment/W1?month={month}").status_code == 200
    other = client.get(f"/assessment/W2?month={month}")
    assert other.status_code == 404 and "没有可查看的网格员 W2" in other.text
    client.cookies.clear()
    sign_in(client, token_for("squad", "D1"))
    refused = client.get(f"/assessment?month={month}")
    assert refused.status_code == 403 and "无权查看考核" in refused.text


def test_the_worker_page_in_chromium(live_server: str, facts: dict[str, Any]) -> None:  # noqa: F811
    with chromium_page(1280, 900) as (page, traffic):
        page.goto(f"{live_server}/assessment/W1?month={facts['month']}")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/assessment/W1?month={facts['month']}")
        page.wait_for_load_state("networkidle")
        assert page.locator("#explain tbody tr").count() == 6
        assert page.locator("#grid-map polyline.track").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "assessment.png"), full_page=True)
        assert traffic.outside(live_server) == []
        assert traffic.bad_responses == [] and traffic.errors == []
