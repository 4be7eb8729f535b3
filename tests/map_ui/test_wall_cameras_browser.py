"""The wall's cameras and grid teams in a real browser: the camera layer draws each camera with
its lens turned to where it looks, a click opens the camera's card with its open incidents
(and an incident's card from there), and a grid's card lists its team — phones whole for the
command center and for a grid worker's own grid, masked for a grid above it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.cameras.catalog import PTZ_TYPES
from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident
from gis_service.people.team_roles import TEAM_ROLES
from map_ui import wall_style as style
from tests.gis_service.cameras.conftest import CAMERAS, EAST, WEST, write_cameras
from tests.gis_service.people.conftest import TEAM, write_team
from tests.map_ui.browser import ARTIFACTS, chromium_page, sign_in, wait_for_live
from tests.map_ui.fixtures import ADMIN_PASSWORD
from tests.map_ui.test_wall_browser import assert_no_codes, screen_point

WORKER_PASSWORD = "s3cret-pw-worker"


def _load(session: Session, folder: Path) -> None:
    for kind, path in (("cameras", write_cameras(folder, CAMERAS)),
                       ("grid_team", write_team(folder, TEAM))):
        report = run_import(session, kind, path)
        assert report.accepted, report.lines()
    account = auth_service.add_account(session, username="w1", role="grid_worker",
                                       scope_code="T-A-1", password=WORKER_PASSWORD)
    account.worker_code = "W1"
    session.commit()


def _cameras_drawn(page: Page) -> None:
    page.wait_for_function("document.body.dataset.cameras === '2'")
    page.wait_for_selector(f".wall-camera-icon[data-code='{WEST}']")


def _open_grid_card(page: Page, code: str, lat: float, lon: float) -> str:
    point = screen_point(page, lat, lon)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(f"#wall-card .card-grid[data-code='{code}']")
    page.wait_for_selector("#wall-card .card-team")
    return page.locator("#wall-card").inner_text()


def test_cameras_and_grid_teams_on_the_wall(live_server: str, town: dict[str, Any],
                                           auth: dict[str, str], db_session: Session,
                                           tmp_path: Path) -> None:
    _load(db_session, tmp_path)
    with httpx.Client(base_url=live_server, headers=auth) as api:
        at_camera = api.post("/api/v1/incidents", json={
            "source": "video", "external_id": "cam-wall-1", "category": "GARBAGE",
            "location": {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}}).json()
        api.post("/api/v1/incidents", json={
            "source": "video", "external_id": "cam-wall-2", "category": "GARBAGE",
            "location": {"lon": 120.404, "lat": 30.904, "crs": "wgs84"}})
    db_session.execute(update(Incident).where(Incident.id == at_camera["id"])
                       .values(camera_code=WEST))
    db_session.commit()

    with chromium_page() as (page, traffic):
        sign_in(page, live_server, "admin", ADMIN_PASSWORD)
        wait_for_live(page)
        _cameras_drawn(page)
        labels = page.locator(".leaflet-control-layers-overlays label").all_text_contents()
        assert style.CAMERAS in [label.strip() for label in labels]
        assert page.locator(".wall-camera-icon").count() == 2
        # the west camera looks east: its lens is turned 90°; the east one has no direction
        west = page.locator(f".wall-camera-icon[data-code='{WEST}'] .wall-camera-lens")
        assert "rotate(90deg)" in (west.get_attribute("style") or "")
        assert page.locator(f".wall-camera-icon[data-code='{EAST}'] .wall-camera-lens"
                            ).count() == 0
        assert page.locator(f".wall-camera-icon[data-code='{WEST}'] .fa-video").count() == 1

        # a click on the camera opens its card with what is open at it
        page.locator(f".wall-camera-icon[data-code='{WEST}']").click()
        page.wait_for_selector(f"#wall-card .card-camera[data-code='{WEST}']")
        card = page.locator("#wall-card").inner_text()
        for words in ("西村路口", WEST, "网络摄像机", "球机", "东（90°）", "32050900",
                      "监控报警专网", "七都派出所", "在办事件", "垃圾堆放"):
            assert words in card, words
        assert page.locator("#wall-card .card-camera-items li").all_text_contents() == [
            f"{at_camera['id']} 垃圾堆放 · 已派遣"]  # not the one elsewhere
        assert_no_codes(card)
        # … and from there the incident's own card
        page.locator(f"#wall-card li[data-id='{at_camera['id']}']").click()
        page.wait_for_selector(f"#wall-card .card-incident[data-id='{at_camera['id']}']")
        assert "视频监控" in page.locator("#wall-card").inner_text()

        # the other camera: nothing open at it
        page.evaluate("code => window.wallState.cameraCard(code)", EAST)
        page.wait_for_selector(f"#wall-card .card-camera[data-code='{EAST}']")
        card = page.locator("#wall-card").inner_text()
        assert "固定枪机" in card and "未知" in card and "无" in card

        # a grid's card lists its team (1+1+N), phones whole for the command center
        card = _open_grid_card(page, "T-A-1", 30.908, 120.408)
        assert "网格力量" in card
        for words in ("社区民警 周警官（七都派出所） 13812345678", "辅警 吴辅警",
                      "志愿者 郑志愿（七都志愿者协会）"):
            assert words in card, words
        page.evaluate("code => window.wallState.gridCard(code)", "T-B-1")
        page.wait_for_selector("#wall-card .card-grid[data-code='T-B-1']")
        page.wait_for_selector("#wall-card .card-team")
        assert page.locator("#wall-card .card-team li").all_text_contents() == ["—"]

        # the words are labels.js's, the same as the service's
        assert page.evaluate("window.GisLabels.teamRoles") == TEAM_ROLES
        assert page.evaluate("window.GisLabels.ptzTypes") == {
            key: name for key, name in PTZ_TYPES.values()}
        assert page.evaluate("""GisLabels.historyLine({actor: "system", action: "dispatch",
            note: "", at: "2024-05-01T01:30:00Z", before: {}, after: {},
            detail: {auto: true, team: {roles: ["police_officer"],
                                        members: ["GT-P1", "GT-P2"]}}})""") == (
            "系统 · 派遣（按规则自动派遣；网格力量协办：GT-P1、GT-P2） · 2024-05-01 09:30")
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(f".wall-camera-icon[data-code='{WEST}']").click()
        page.wait_for_selector(f"#wall-card .card-camera[data-code='{WEST}']")
        page.mouse.move(5, 450)  # no tooltip over the lens
        page.screenshot(path=str(ARTIFACTS / "wall_cameras.png"))

    # a grid worker sees its own grid's team with the phones to call them
    with chromium_page() as (page, worker_traffic):
        sign_in(page, live_server, "w1", WORKER_PASSWORD)
        wait_for_live(page)
        card = _open_grid_card(page, "T-A-1", 30.908, 120.408)
        assert "社区民警 周警官（七都派出所） 13812345678" in card

    for seen in (traffic, worker_traffic):
        assert seen.outside(live_server) == []
        assert seen.bad_responses == []
        assert seen.failed == []
        assert seen.errors == []
