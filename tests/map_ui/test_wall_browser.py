"""The wall in a real browser against the real service: signs in, draws every layer, and
loads nothing from outside the service."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page

from map_ui import wall_style as style
from tests.map_ui.browser import ARTIFACTS, chromium_page, incidents_drawn, sign_in
from tests.map_ui.fixtures import ADMIN_PASSWORD, RECENT, report_incidents


def hover_tooltip(page: Page, lat: float, lon: float) -> str:
    """Move the mouse over a place on the map and read the tooltip that opens."""
    point: dict[str, Any] = page.evaluate(
        """([lat, lon]) => {
            const element = document.querySelector(".folium-map");
            const map = window[element.id];
            const box = element.getBoundingClientRect();
            const at = map.latLngToContainerPoint([lat, lon]);
            return {x: box.left + at.x, y: box.top + at.y};
        }""", [lat, lon])
    page.mouse.move(point["x"], point["y"])
    tooltip = page.locator(".leaflet-tooltip.foliumtooltip")
    tooltip.wait_for()
    return tooltip.inner_text()


def test_the_wall_in_a_browser(live_server: str, town: dict[str, Any],
                               auth: dict[str, str]) -> None:
    with httpx.Client(base_url=live_server, headers=auth) as api:
        report_incidents(lambda path, body: api.post(path, json=body))
    with chromium_page() as (page, traffic):
        sign_in(page, live_server, "admin", ADMIN_PASSWORD)
        page.wait_for_selector("path.wall-grid3")

        labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
        assert [label.strip() for label in labels] == list(style.LAYER_NAMES)
        drawn = {name: page.locator(f"path.{name}").count()
                 for name in ("wall-grid1", "wall-grid2", "wall-grid3", "wall-special",
                              "wall-district", "wall-zone", "wall-project", "wall-station")}
        assert drawn == {"wall-grid1": 1, "wall-grid2": 2, "wall-grid3": 4, "wall-special": 1,
                         "wall-district": 2, "wall-zone": 2, "wall-project": 2,
                         "wall-station": 1}
        assert incidents_drawn(page) == len(RECENT)
        assert re.search(r"近30天事件 3 起", page.locator(".wall-title").inner_text())

        text = hover_tooltip(page, 30.902, 120.402)  # inside T-A-1, away from every marker
        assert "T-A-1" in text and "张三" in text

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall.png"))

    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == []
    assert traffic.failed == []
    assert traffic.errors == []
    assert any(url.endswith("/leaflet.js") for url in traffic.requests)
