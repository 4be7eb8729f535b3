"""The county center's day in a real browser: on the wall, the towns' league and a drill into
one town and back; in the console, the ticket a town handed up, found again by a word of its
description, and sent down to the town it lies in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import
from tests.gis_service.incidents.test_county_tier import IN_T, IN_U, county_files
from tests.map_ui.browser import ARTIFACTS, chromium_page, sign_in
from tests.town import handler

PASSWORD = "County-center-on-the-lake-7"


def _report(api: httpx.Client, number: str, where: tuple[float, float],
            description: str) -> dict[str, Any]:
    response = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "external_id": number, "category": "FLOOD",
        "description": description, "location": {"lon": where[0], "lat": where[1]}})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_county_center_in_a_browser(live_server: str, db_session: Session,
                                        tmp_path: Path, admin_token: str) -> None:
    files = county_files(tmp_path)
    for kind in ("grids", "departments", "workers", "responsibilities"):
        assert run_import(db_session, kind, files[kind]).accepted
    for name, scope in (("county", "C"), ("qidu", "T")):
        auth_service.add_account(db_session, username=name, role="dispatcher",
                                 scope_code=scope, password=PASSWORD)
    db_session.commit()
    api = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {admin_token}"})
    flooded = _report(api, "C1", IN_T, "东村桥头积水没过小腿")
    _report(api, "C2", IN_U, "邻村路口积水")
    _report(api, "C3", IN_U, "邻村菜场门口积水")
    town = httpx.Client(base_url=live_server)
    assert town.post("/login", data={"username": "qidu", "password": PASSWORD}).status_code \
        == 200
    up = town.post(f"/api/v1/incidents/{flooded['id']}/actions",
                   headers={"If-Match": f'"{flooded["version"]}"'},
                   json={"action": "escalate", "note": "镇里调不动抽水泵"})
    assert up.status_code == 200 and handler(up.json()) == ("county", "C")

    with chromium_page() as (page, traffic):
        sign_in(page, live_server, "county", PASSWORD)
        expect(page.locator("h1")).to_contain_text("吴江区(测试)")
        league = page.locator("#league-rows tr")
        expect(league).to_have_count(2)
        expect(page.locator("#league-rows tr[data-code=U] td").nth(1)).to_have_text("2")
        page.click("#league-rows tr[data-code=T] a")
        page.wait_for_url(f"{live_server}/?town=T")
        expect(page.locator("h1")).to_contain_text("七都镇(测试)")
        expect(page.locator("#kpi-today")).to_have_text("1")  # the town's own figures
        page.click("#wall-back")
        page.wait_for_url(f"{live_server}/")

        page.goto(f"{live_server}/dispatch")
        expect(page.locator("[data-count=escalated]")).to_have_text("1")
        page.click("#tab-escalated")
        expect(page.locator("#queue-rows tr")).to_have_count(1)
        page.fill("#search", "邻村")
        page.click("#search-form button")
        expect(page.locator("#queue-rows tr")).to_have_count(2)  # both of U, any queue
        page.fill("#search", "抽水泵 桥头")
        page.click("#search-form button")
        expect(page.locator("#queue-empty")).to_contain_text("抽水泵 桥头")
        page.fill("#search", "桥头 积水")
        page.click("#search-form button")
        expect(page.locator("#queue-rows tr")).to_have_count(1)
        page.click(f"#queue-rows tr[data-id='{flooded['id']}']")
        page.wait_for_selector(".dispatch-suggestion[data-to='town:T']")
        page.click(".dispatch-suggestion[data-to='town:T'] button")
        expect(page.locator(".dispatch-message").first).to_contain_text("七都镇(测试)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "county-console.png"))
    sent = api.get(f"/api/v1/incidents/{flooded['id']}").json()
    assert handler(sent) == ("town", "T")
    # leaving a page cancels its polls in flight (net::ERR_ABORTED); nothing else may fail
    assert [f for f in traffic.failed if not f.endswith("net::ERR_ABORTED")] == []
    assert traffic.outside(live_server) == []
