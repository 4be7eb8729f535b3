"""The wall in a real browser against the real service: signs in, draws every layer, shows a
new report within 5 s, switches viewpoints by URL, opens cards, replays the day — and loads
nothing from outside the service."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import httpx
from playwright.sync_api import Page

from gis_service.auth.models import ROLE_NAMES
from gis_service.incidents.core.lifecycle import ACTION_NAMES
from gis_service.tiles.tiling import cell_of
from map_ui import nav
from map_ui import wall_style as style
from tests.gis_service.hotspots.test_hotspots import HOT, spots
from tests.map_ui.browser import ARTIFACTS, chromium_page, live_drawn, sign_in, wait_for_live
from tests.map_ui.fixtures import ADMIN_PASSWORD, REPORTS, report_incidents


def screen_point(page: Page, lat: float, lon: float) -> dict[str, float]:
    """Where a place on the map is on the screen."""
    point: dict[str, float] = page.evaluate(
        """([lat, lon]) => {
            const element = document.querySelector(".folium-map");
            const box = element.getBoundingClientRect();
            const at = window.wallState.map.latLngToContainerPoint([lat, lon]);
            return {x: box.left + at.x, y: box.top + at.y};
        }""", [lat, lon])
    return point


def hover_tooltip(page: Page, lat: float, lon: float) -> str:
    """Move the mouse over a place on the map and read the tooltip that opens."""
    point = screen_point(page, lat, lon)
    page.mouse.move(point["x"], point["y"])
    tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def slide(page: Page, minute: int) -> None:
    """Move the replay slider as a user would (an input event)."""
    page.eval_on_selector("#replay-slider", """(slider, minute) => {
        slider.value = String(minute);
        slider.dispatchEvent(new Event("input"));
    }""", minute)


# what a person must not read on a card: handler references and the API's action codes
RAW = re.compile(r"\b(?:town|county|grid_worker|squad|department):|\b(?:report|dispatch|"
                 r"escalate|accept|resolve|import|system|reported|dispatched|"
                 r"grid_patrol|hotline_12345)\b")


def assert_no_codes(text: str) -> None:
    """The text a person reads holds no raw code (`town:T`, `import · report`…)."""
    assert not RAW.findall(text), text


def nav_links(page: Page) -> list[tuple[str, str]]:
    """The page's bar of links to the other pages: (words, path) in order."""
    found: list[list[str]] = page.eval_on_selector_all(
        ".gis-nav a", "links => links.map(a => [a.textContent, a.getAttribute('href')])")
    return [(text, href) for text, href in found]


def drawn(page: Page, *names: str) -> dict[str, int]:
    return {name: page.locator(f"path.{name}").count() for name in names}


def test_the_wall_in_a_browser(live_server: str, town: dict[str, Any],
                               auth: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server, headers=auth) as api, \
            chromium_page() as (page, traffic):
        made = report_incidents(lambda path, body: api.post(path, json=body))
        sign_in(page, live_server, "admin", ADMIN_PASSWORD)
        page.wait_for_selector("path.wall-grid3")
        wait_for_live(page)

        labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
        assert [label.strip() for label in labels] == list(style.LAYER_NAMES)
        # the command view: grids, special grids, projects, open incidents
        assert drawn(page, "wall-grid1", "wall-grid2", "wall-grid3", "wall-special",
                     "wall-project", "wall-district", "wall-zone") == {
            "wall-grid1": 1, "wall-grid2": 2, "wall-grid3": 4, "wall-special": 1,
            "wall-project": 2, "wall-district": 0, "wall-zone": 0}
        assert live_drawn(page) == len(REPORTS)  # every open one, however old
        page.wait_for_function("document.getElementById('kpi-open').textContent === '4'")
        assert page.locator(".wall-view.active").inner_text() == "指挥"

        # a new report shows within 5 s of its intake, flagged as new
        started = time.monotonic()
        new = api.post("/api/v1/incidents", json={
            "source": "hotline_12345", "external_id": "wall-live-1", "category": "GARBAGE",
            "location": {"lon": 120.4165, "lat": 30.9035, "crs": "wgs84"}}).json()
        page.wait_for_selector(f"path.wall-live-{new['id']}.wall-new", timeout=5000)
        assert time.monotonic() - started < 5
        page.wait_for_function("document.getElementById('kpi-open').textContent === '5'",
                               timeout=15000)
        assert page.locator("#kpi-today").inner_text() == "1"  # the others are days old

        # closing one takes it off the wall
        first = made[0]
        for action, extra in (("accept", {}), ("resolve", {}), ("verify", {}),
                              ("close", {"resolution": "service"})):
            first = api.post(f"/api/v1/incidents/{first['id']}/actions",
                             headers={"If-Match": f'"{first["version"]}"'},
                             json={"action": action, **extra}).json()
        page.wait_for_selector(f"path.wall-live-{first['id']}", state="detached",
                               timeout=5000)

        # hovering a grid names its worker; clicking opens its card
        text = hover_tooltip(page, 30.902, 120.402)
        assert "T-A-1" in text and "张三" in text
        point = screen_point(page, 30.902, 120.402)
        page.mouse.click(point["x"], point["y"])
        page.wait_for_selector("#wall-card .card-grid[data-code='T-A-1']")
        assert "张三" in page.locator("#wall-card").inner_text()

        # clicking an incident opens its card with its history, all in words
        page.locator(f"path.wall-live-{new['id']}").click(force=True)
        page.wait_for_selector(f"#wall-card .card-incident[data-id='{new['id']}']")
        card_text = page.locator("#wall-card").inner_text()
        assert "处置记录" in card_text
        assert "垃圾堆放" in card_text and "GARBAGE" not in card_text  # the category's name
        assert "已派遣" in card_text and "12345热线" in card_text
        assert "东村一组（T-B-1）" in card_text and "网格员 " in card_text
        assert "系统 · 派遣" in card_text and "按规则自动派遣" in card_text
        assert_no_codes(card_text)

        # an escalated one names the town center by the town's name, and says why
        third = api.post(f"/api/v1/incidents/{made[2]['id']}/actions",
                         headers={"If-Match": f'"{made[2]["version"]}"'},
                         json={"action": "escalate", "note": "村里处理不了"}).json()
        page.evaluate("id => window.wallState.incidentCard(id)", third["id"])
        page.wait_for_selector(f"#wall-card .card-incident[data-id='{third['id']}']")
        page.wait_for_selector("#wall-card li[data-action=escalate]")
        card_text = page.locator("#wall-card").inner_text()
        assert "镇指挥中心 七都镇(测试)" in card_text
        assert "上报升级 → 镇指挥中心 七都镇(测试)" in card_text and "村里处理不了" in card_text
        assert "网格巡查" in card_text
        assert_no_codes(card_text)

        # the page's words are labels.js's, and the server-side names agree with them
        assert page.evaluate("window.GisLabels.states") == style.INCIDENT_STATUS
        assert page.evaluate("window.GisLabels.sources") == style.SOURCE_NAMES
        actions = page.evaluate("window.GisLabels.actions")
        assert {code: actions[code] for code in ACTION_NAMES} == ACTION_NAMES
        assert page.evaluate("window.GisLabels.roles") == ROLE_NAMES
        # its helpers, as the console and the phone page use them too
        assert page.evaluate("""() => [
            GisLabels.assignee({type: "grid_worker", code: "W1", name: "张三"}),
            GisLabels.assignee({type: "squad", code: "Q1"}), GisLabels.assignee(null),
            GisLabels.historyLine({actor: "import", action: "report", note: "",
              at: "2024-05-01T01:30:00Z", before: {}, after: {}, detail: {
                channel: "hotline_12345",
                geocode: {placed: true, method: "village", matched: "东村", confidence: 0.7}}}),
            GisLabels.historyLine({actor: "system", action: "escalate", note: "",
              at: "2024-05-01T16:00:00Z", detail: {reason: "overdue"},
              before: {assignee_type: "grid_worker", assignee_code: "W1"},
              after: {assignee_type: "town", assignee_code: "T"}})]""") == [
            "网格员 张三", "执法中队 Q1", "未指派",
            "批量导入 · 上报（按村/社区定位：东村，可信度 70%；渠道：12345热线）"
            " · 2024-05-01 09:30",
            "系统 · 上报升级 → 镇指挥中心 T（超期未办结） · 2024-05-02 00:00"]
        # a metric scale bar only
        scale = page.locator(".leaflet-control-scale-line")
        assert scale.count() == 1
        assert re.fullmatch(r"\d+ k?m", scale.inner_text().strip())

        # viewpoints switch layers and are kept in the URL
        page.click(".wall-view[data-view=taihu]")
        assert page.url.endswith("/?view=taihu")
        assert drawn(page, "wall-zone", "wall-grid3") == {"wall-zone": 2, "wall-grid3": 0}
        page.goto(f"{live_server}/?view=enforcement")
        page.wait_for_selector("path.wall-district")
        assert drawn(page, "wall-district")["wall-district"] == 2
        page.goto(f"{live_server}/?view=analysis")
        page.wait_for_selector("path.wall-heat")
        assert live_drawn(page) == 0
        page.wait_for_selector("canvas.leaflet-tile", state="attached")
        page.wait_for_function("document.body.dataset.historyTiles === 'loaded'")

        # replaying today: at the day's last minute every report of today is on the map
        page.goto(f"{live_server}/")
        wait_for_live(page)
        page.click("#replay-toggle")
        page.wait_for_function("document.getElementById('replay-count').textContent !== ''")
        slide(page, 1439)
        assert page.locator("path.wall-replayed").count() == 1  # only the new one is today's
        assert page.locator(f"path.wall-replayed-{new['id']}").count() == 1
        assert live_drawn(page) == 0  # the live layer steps aside while replaying
        page.click("#replay-toggle")
        page.wait_for_selector(f"path.wall-live-{new['id']}")

        # the links between the pages: what an admin may open, each page carrying the bar
        page.goto(f"{live_server}/")
        wait_for_live(page)
        assert nav_links(page) == [(link.label, link.href) for link in nav.links_for("admin")]
        assert page.locator(".gis-nav [aria-current=page]").inner_text() == "一张图"
        assert page.evaluate("window.GisLabels.roles") == nav.ROLE_NAMES
        for label, path, heading in (("边界方案", "/plans", "边界方案"),
                                     ("周报", "/reports/weekly", "周"),
                                     ("考核", "/assessment", "网格员月度考核"),
                                     ("一张图", "/", "网格化管理一张图")):
            page.locator(".gis-nav a", has_text=label).click()
            page.wait_for_url(f"{live_server}{path}")
            assert heading in page.locator("h1").first.inner_text()
            assert page.locator(".gis-nav [aria-current=page]").inner_text() == label
            assert len(nav_links(page)) == len(nav.links_for("admin"))

        ARTIFACTS.mkdir(exist_ok=True)
        page.goto(f"{live_server}/")
        wait_for_live(page)
        page.wait_for_function("document.getElementById('kpi-open').textContent !== '–'")
        page.screenshot(path=str(ARTIFACTS / "wall.png"))

    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == []
    assert traffic.failed == []
    assert traffic.errors == []
    assert any(url.endswith("/leaflet.js") for url in traffic.requests)
    assert any("/tiles/incidents/" in url for url in traffic.requests)


def test_a_rising_hotspot_is_warned_on_the_analysis_view(
        live_server: str, town: dict[str, Any], auth: dict[str, str]) -> None:
    now = datetime.now(UTC)
    points = spots(*HOT, 15)
    with httpx.Client(base_url=live_server, headers=auth) as api, \
            chromium_page() as (page, traffic):
        # two reports a week for eight weeks, then fifteen this week in the same place
        moments = [(points[i], now - timedelta(days=7 * week + 1 + i))
                   for week in range(1, 9) for i in range(2)]
        moments += [(point, now - timedelta(hours=2 + i)) for i, point in enumerate(points)]
        for (lon, lat), at in moments:
            response = api.post("/api/v1/incidents", json={
                "source": "grid_patrol", "category": "GARBAGE", "reported_at": at.isoformat(),
                "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
            assert response.status_code == 201, response.text
        sign_in(page, live_server, "admin", ADMIN_PASSWORD)
        page.goto(f"{live_server}/?view=analysis")
        page.wait_for_selector("path.wall-warning")
        assert page.locator(".wall-view.active").inner_text() == "分析研判"
        assert page.locator("#wall-warnings-n").inner_text() != "0"
        assert "本周预警" in page.locator("#wall-warnings-toggle").inner_text()

        cell = h3.latlng_to_cell(HOT[1], HOT[0], 8)
        lat, lon = h3.cell_to_latlng(cell)
        point = screen_point(page, lat, lon)
        page.mouse.move(point["x"], point["y"])
        tooltip = page.locator(".leaflet-tooltip", has_text="为近8周均值的7.5倍")
        tooltip.wait_for()
        assert "西村一组附近本周垃圾堆放类上报15起" in tooltip.inner_text()

        page.click("#wall-warnings-toggle")
        page.locator("#wall-warnings-list li[data-warning]").first.click()
        page.wait_for_selector("#wall-card .card-warning")
        assert "倍" in page.locator("#wall-card").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall-warnings.png"))

    assert traffic.bad_responses == [] and traffic.errors == []
    assert traffic.outside(live_server) == []
    assert any("/api/v1/hotspots" in url for url in traffic.requests)


HISTORY_FEATURES = """() => {
    const tiles = window.wallState.layers.history, zoom = window.wallState.map.getZoom();
    const found = [];
    for (const key in tiles._vectorTiles) {
        if (Number(key.split(":")[2]) !== zoom) { continue; }
        const drawn = tiles._vectorTiles[key]._layers;
        for (const id in drawn) { found.push(drawn[id].properties); }
    }
    return found;
}"""


def history_at(page: Page, zoom: int, lat: float, lon: float) -> list[dict[str, Any]]:
    """Properties of the history layer's features drawn with the map at `zoom` over a place
    (waited for until some are)."""
    page.evaluate("([lat, lon, zoom]) => window.wallState.map.setView([lat, lon], zoom, "
                  "{animate: false})", [lat, lon, zoom])
    page.wait_for_function(f"({HISTORY_FEATURES})().length > 0 && "
                           "document.body.dataset.historyTiles === 'loaded'")
    found: list[dict[str, Any]] = page.evaluate(HISTORY_FEATURES)
    return found


def cell_centre(lon: float, lat: float) -> tuple[float, float]:
    """lat, lon of the middle of the aggregate's cell (a zoom-16 tile) holding a place: where
    a bin of z11–13 is drawn."""
    cx, cy = cell_of(lon, lat)
    n = 2**16
    return (math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (cy + 0.5) / n)))),
            (cx + 0.5) / n * 360 - 180)


def test_the_history_layer_bins_30_days_up_to_z13_and_opens_points_from_z14(
        live_server: str, town: dict[str, Any], auth: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server, headers=auth) as api, \
            chromium_page() as (page, traffic):
        made = report_incidents(lambda path, body: api.post(path, json=body))
        in_window = [m["id"] for m, r in zip(made, REPORTS, strict=True) if r[3] <= 30]
        sign_in(page, live_server, "admin", ADMIN_PASSWORD)
        page.goto(f"{live_server}/?view=analysis")
        page.wait_for_selector("path.wall-heat")  # shown, and letting clicks through
        lon, lat = REPORTS[0][0], REPORTS[0][1]

        # up to z13 the last 30 days are bins (counts, no ids); clicking one comes closer
        for zoom in (11, 12, 13):
            bins = history_at(page, zoom, lat, lon)
            assert bins and all("count" in b and "id" not in b for b in bins), (zoom, bins)
            assert sum(b["count"] for b in bins) == len(in_window)
        point = screen_point(page, *cell_centre(lon, lat))
        page.mouse.click(point["x"], point["y"])
        page.wait_for_function("window.wallState.map.getZoom() === 15")

        # from z14 each is a point with its id; clicking one opens its card
        points = history_at(page, 15, lat, lon)
        assert sorted(p["id"] for p in points) == sorted(in_window)
        assert all("count" not in p for p in points)
        point = screen_point(page, lat, lon)
        page.mouse.click(point["x"], point["y"])
        page.wait_for_selector(f"#wall-card .card-incident[data-id='{made[0]['id']}']")

    assert traffic.bad_responses == [] and traffic.errors == [] and traffic.failed == []
    assert any("/tiles/incidents/13/" in url for url in traffic.requests)
