"""The grid worker's phone page in a real browser against the real service: signs in, works
a task (a stale one included), reports at the phone's position in a declared CRS, records a
patrol, lists the grid's team to call, and loads nothing from outside the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.auth.models import Account
from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident
from tests.gis_service.people.conftest import TEAM, write_team
from tests.map_ui.browser import ARTIFACTS
from tests.map_ui.phone import move_to, phone_page, sign_in_on_phone
from tests.town import handler

PASSWORD = "field-pw-1"
REPORT_AT = (120.4035, 30.9042)  # storage (CGCS2000) lon/lat inside T-A-1
# the same place as a GCJ-02 map (Amap, Tencent) gives it
REPORT_GCJ = (120.4081436, 30.9021690)
WALK = [(120.4012, 30.9012), (120.4020, 30.9012), (120.4028, 30.9014), (120.4030, 30.9022)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
METRE = 1e-5  # degrees, about a metre here


@pytest.fixture()
def field_account(db_session: Session) -> str:
    """A grid worker of T-A-1 who is worker W1 (张三), with a password."""
    auth_service.add_account(db_session, username="zhangsan", role="grid_worker",
                             scope_code="T-A-1", password=PASSWORD)
    db_session.execute(update(Account).where(Account.username == "zhangsan")
                       .values(worker_code="W1"))
    db_session.commit()
    return "zhangsan"


def test_gcj_constant_is_the_storage_point() -> None:
    from grid_layers import crs

    lon, lat = crs.point_to_storage(*REPORT_GCJ, "gcj02")
    assert abs(lon - REPORT_AT[0]) < METRE / 10 and abs(lat - REPORT_AT[1]) < METRE / 10


def test_the_worker_page_on_a_phone(live_server: str, town: dict[str, Any],
                                    auth: dict[str, str], field_account: str) -> None:
    api = httpx.Client(base_url=live_server, headers=auth)
    task = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "category": "GARBAGE", "address": "西村一组 村口",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}}).json()
    assert task["status"] == "dispatched" and task["assignee"]["code"] == "W1"

    with phone_page(*REPORT_GCJ) as (page, context, traffic):
        sign_in_on_phone(page, live_server, field_account, PASSWORD)
        assert "张三" in page.inner_text("#who") and "T-A-1" in page.inner_text("#who")

        # my tasks: accept, then a stale action meets 412 and the list reloads
        card = page.locator(f'li.w-task[data-id="{task["id"]}"]')
        card.wait_for()
        assert "垃圾堆放" in card.inner_text()
        card.locator("button[data-action=accept]").click()
        page.locator(f'li.w-task[data-id="{task["id"]}"][data-status="accepted"]').wait_for()
        assert api.get(f"/api/v1/incidents/{task['id']}").json()["status"] == "accepted"
        current = api.get(f"/api/v1/incidents/{task['id']}")
        moved = api.post(f"/api/v1/incidents/{task['id']}/actions", json={"action": "start"},
                         headers={"If-Match": current.headers["etag"]})
        assert moved.status_code == 200, moved.text
        card.locator("textarea").fill("已清理")
        card.locator("button[data-action=resolve]").click()  # the page still holds v2
        page.locator(f'li.w-task[data-id="{task["id"]}"][data-status="in_progress"]').wait_for()
        assert "他人修改" in page.inner_text("#message")
        assert card.locator("textarea").input_value() == "已清理"  # kept, to send again
        card.locator("input[type=file]").set_input_files(
            files=[{"name": "after.png", "mimeType": "image/png", "buffer": PNG}])
        card.locator("button[data-action=resolve]").click()
        card.wait_for(state="detached")  # resolved: no longer a task
        resolved = api.get(f"/api/v1/incidents/{task['id']}").json()
        assert resolved["status"] == "resolved"
        photos = api.get(f"/api/v1/incidents/{task['id']}/photos").json()
        assert [p["content_type"] for p in photos] == ["image/png"]
        assert photos[0]["taken_by"] == field_account

        # report here: the phone gives GCJ-02 (declared), the service stores CGCS2000
        page.click("[data-tab=report]")
        page.click("#locate")
        page.wait_for_function("document.getElementById('position').textContent"
                               ".includes('经度')")
        page.select_option("#crs", "gcj02")
        page.select_option("#category", "GARBAGE")
        page.fill("#description", "路边垃圾堆放")
        page.click("#submit-report")
        result = page.locator("#report-result")
        result.wait_for(state="visible")
        reported = api.get(f"/api/v1/incidents/{result.get_attribute('data-id')}").json()
        assert abs(reported["lon"] - REPORT_AT[0]) < METRE
        assert abs(reported["lat"] - REPORT_AT[1]) < METRE
        assert reported["source"] == "grid_patrol" and reported["grid3"] == "T-A-1"
        assert handler(reported) == ("grid_worker", "W1")
        assert "T-A-1" in result.inner_text() and "网格员 张三" in result.inner_text()

        # a short patrol: the phone walks, the page records and uploads on stop
        page.click("[data-tab=patrol]")
        move_to(context, *WALK[0])
        page.click("#patrol-toggle")
        for number, (lon, lat) in enumerate(WALK):
            move_to(context, lon, lat)
            page.wait_for_function(
                f"Number(document.getElementById('patrol-points').textContent) >= {number + 1}")
        walked = int(page.inner_text("#patrol-distance"))
        assert 240 < walked < 255  # 77 + 77 + 91 m, as the page adds them up
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "worker.png"))
        page.click("#patrol-toggle")
        page.wait_for_function("document.getElementById('patrol-state').textContent"
                               ".includes('轨迹已保存')")

    [track] = api.get("/api/v1/patrols").json()["features"]
    assert track["properties"]["worker_code"] == "W1"
    assert track["properties"]["grid_code"] == "T-A-1"
    coordinates = track["geometry"]["coordinates"]
    assert len(coordinates) == len(WALK)
    for (x, y), (lon, lat) in zip(coordinates, WALK, strict=True):
        assert abs(x - lon) < METRE / 10 and abs(y - lat) < METRE / 10
    [position] = api.get("/api/v1/patrols/positions").json()["features"]
    assert position["geometry"]["coordinates"] == list(WALK[-1])
    api.close()

    assert traffic.outside(live_server) == []
    assert [r for r in traffic.bad_responses if "/actions" not in r] == []
    assert len(traffic.bad_responses) == 1 and traffic.bad_responses[0].startswith("412 ")
    assert traffic.failed == []
    assert [e for e in traffic.errors if "412" not in e] == []
    assert any(url.endswith("/leaflet.js") for url in traffic.requests)
    assert any(url.endswith("/worker.js") for url in traffic.requests)


def test_the_phone_page_lists_the_grids_team_to_call(
        live_server: str, town: dict[str, Any], db_session: Session, field_account: str,
        tmp_path: Path) -> None:
    # 1+1+N: the worker's own grid's police group and volunteer, each a tap to call; the
    # village's people are not on the worker's own list
    assert run_import(db_session, "grid_team", write_team(tmp_path, TEAM)).accepted
    db_session.commit()
    with phone_page(*REPORT_GCJ) as (page, _context, traffic):
        sign_in_on_phone(page, live_server, field_account, PASSWORD)
        page.locator("#team-box").wait_for(state="visible")
        rows = page.locator("#team li")
        assert [rows.nth(n).get_attribute("data-code") for n in range(rows.count())] == [
            "GT-P1", "GT-P2", "GT-V1"]
        assert "社区民警 周警官" in rows.nth(0).inner_text()
        assert rows.nth(0).locator("a").get_attribute("href") == "tel:13812345678"
        assert "七都志愿者协会" in rows.nth(2).inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("#team-box").screenshot(path=str(ARTIFACTS / "worker_team.png"))
        assert traffic.outside(live_server) == []


def test_a_police_officer_of_the_grid_team_follows_its_share_on_the_phone(
        live_server: str, town: dict[str, Any], auth: dict[str, str], db_session: Session,
        tmp_path: Path) -> None:
    # a grid team member signed in (role team): its list is what it was brought in on (协办),
    # read-only; no patrol recording; its weekly report opens
    assert run_import(db_session, "grid_team", write_team(tmp_path, TEAM)).accepted
    auth_service.add_account(db_session, username="zhou", role="team", scope_code="GT-P1",
                             password=PASSWORD)
    db_session.commit()
    api = httpx.Client(base_url=live_server, headers=auth)
    brawl = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "category": "GARBAGE", "address": "西村一组 村口",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}}).json()
    db_session.execute(update(Incident).where(Incident.id == brawl["id"])
                       .values(cooperating=["GT-P1", "GT-P2"]))
    db_session.commit()
    with phone_page(*REPORT_GCJ) as (page, _context, traffic):
        sign_in_on_phone(page, live_server, "zhou", PASSWORD)
        assert "网格力量 周警官" in page.inner_text("#who") and "T-A-1" in page.inner_text("#who")
        assert "已派遣" in page.locator("#tasks h3").first.inner_text()
        card = page.locator(f'li.w-task[data-id="{brawl["id"]}"]')
        card.wait_for()
        assert "协办：处置人 网格员 张三" in card.inner_text()
        assert card.locator("button").count() == 0
        assert page.locator("[data-tab=tasks]").inner_text() == "协办事项"
        assert page.locator("[data-tab=patrol]").is_hidden()
        page.locator("#team-box").wait_for(state="visible")
        assert page.locator("#team li").count() == 3
        page.click("[data-tab=report]")
        assert page.locator("#submit-report").count() == 1
        page.goto(f"{live_server}/reports/weekly")
        assert page.locator("h1").count() >= 1
        assert traffic.outside(live_server) == [] and traffic.bad_responses == []


def test_a_note_being_written_survives_the_list_drawn_again(
        live_server: str, town: dict[str, Any], auth: dict[str, str],
        field_account: str) -> None:
    """Signal comes back while the worker writes: the task list is drawn again, and the note
    keeps its words and its focus, so the next keys land in it."""
    api = httpx.Client(base_url=live_server, headers=auth)
    task = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "category": "GARBAGE",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}}).json()
    with phone_page(*REPORT_GCJ) as (page, _context, traffic):
        sign_in_on_phone(page, live_server, field_account, PASSWORD)
        note = page.locator(f'li.w-task[data-id="{task["id"]}"] textarea')
        note.click()
        page.keyboard.type("垃圾")
        note.evaluate("box => { box.dataset.before = 'yes'; }")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_function("!document.querySelector('[data-before]')")  # drawn again
        page.keyboard.type("已清理")
        assert note.input_value() == "垃圾已清理"
    assert traffic.failed == []
