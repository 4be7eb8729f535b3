"""What every page does with the service's answers, through the one toolkit (static/page.js):
a session that has run out sends the wall, the console, the phone page, the plan list and the
plan editor to the sign-in form, which brings the person back to the same page; a refusal is
shown in a sentence a town's operator reads — the service's own Chinese when it has one, else
what its status means, never the framework's English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.auth.models import Account
from tests.map_ui.browser import Traffic, launch_chromium, wait_for_live
from tests.map_ui.phone import PHONE, move_to

PASSWORD = "kit-pw-1"
IN_T_A_1 = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}
WALK = [(120.4012, 30.9012), (120.4020, 30.9012)]
# (username, role, scope, worker): one person for each page
PEOPLE = [("zhihui", "commander", None, None), ("diaodu", "dispatcher", None, None),
          ("zhangsan", "grid_worker", "T-A-1", "W1"), ("guihua", "planner", None, None)]


@pytest.fixture()
def people(db_session: Session) -> str:
    """The accounts of PEOPLE with PASSWORD; returns an admin token for the API."""
    auth_service.add_account(db_session, username="kit-admin", role="admin")
    for username, role, scope, worker in PEOPLE:
        auth_service.add_account(db_session, username=username, role=role, scope_code=scope,
                                 password=PASSWORD)
        if worker:
            db_session.execute(update(Account).where(Account.username == username)
                               .values(worker_code=worker))
    token = auth_service.issue_token(db_session, username="kit-admin")
    db_session.commit()
    return token


@pytest.fixture(name="chromium")
def chromium_fixture() -> Iterator[Browser]:
    """Debian's Chromium; each person gets a context (their own cookies) of it."""
    with launch_chromium() as browser:
        yield browser


def sign_in(page: Page, origin: str, username: str, where: str) -> None:
    """On the sign-in form that was to lead to `where`: sign in and arrive there."""
    assert page.url == f"{origin}/login?next={quote(where)}", page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}{where}")


def opened(chromium: Browser, origin: str, username: str, where: str, traffic: Traffic,
           **context: Any) -> Page:
    """`where` opened by `username` in a context of their own, signed in through the form."""
    page = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                **context).new_page()
    traffic.watch(page)
    page.goto(f"{origin}{where}")
    sign_in(page, origin, username, where)
    return page


def signed_out_and_back(page: Page, origin: str, username: str, where: str,
                        call: str) -> None:
    """The session ends under the open page; its next call to the API (made by clicking
    `call`, or by the page's own polling when empty) sends it to the sign-in form, and
    signing in there brings the person back."""
    page.context.clear_cookies()
    if call:
        page.click(call)
    page.wait_for_url(f"{origin}/login?next={quote(where)}", timeout=15000)
    sign_in(page, origin, username, where)


def test_a_run_out_session_sends_every_page_to_sign_in_and_back(
        live_server: str, town: dict[str, Any], people: str, chromium: Browser) -> None:
    traffic = Traffic()
    with httpx.Client(base_url=live_server,
                      headers={"Authorization": f"Bearer {people}"}) as api:
        made = api.post("/api/v1/plans", json={"name": "西村边界调整"})
        assert made.status_code == 201, made.text
        editor = f"/plans/{made.json()['id']}/edit"

    wall = opened(chromium, live_server, "zhihui", "/", traffic)
    wait_for_live(wall)
    signed_out_and_back(wall, live_server, "zhihui", "/", "")  # the feed's next poll
    wait_for_live(wall)

    console = opened(chromium, live_server, "diaodu", "/dispatch", traffic)
    expect(console.locator("#refreshed")).to_contain_text("更新于")
    signed_out_and_back(console, live_server, "diaodu", "/dispatch", "#tab-awaiting")
    expect(console.locator("#refreshed")).to_contain_text("更新于")

    phone = opened(chromium, live_server, "zhangsan", "/worker", traffic, viewport=PHONE,
                   is_mobile=True, has_touch=True)
    expect(phone.locator("#tasks")).to_contain_text("暂无待办任务")
    signed_out_and_back(phone, live_server, "zhangsan", "/worker", "#reload")
    expect(phone.locator("#tasks")).to_contain_text("暂无待办任务")

    plans = opened(chromium, live_server, "guihua", "/plans", traffic)
    signed_out_and_back(plans, live_server, "guihua", "/plans", "#new-plan button[type=submit]")

    plan = opened(chromium, live_server, "guihua", editor, traffic)
    plan.wait_for_selector("body[data-ready=true]")
    signed_out_and_back(plan, live_server, "guihua", editor, "#tab-log")
    plan.wait_for_selector("body[data-ready=true]")

    assert traffic.outside(live_server) == []
    # the only failures are the calls made signed out
    assert traffic.bad_responses and all(
        line.startswith("401 ") for line in traffic.bad_responses), traffic.bad_responses
    assert [e for e in traffic.errors if "status of 401" not in e] == []


def test_refusals_are_said_in_chinese(live_server: str, town: dict[str, Any], people: str,
                                      chromium: Browser) -> None:
    traffic = Traffic()
    with httpx.Client(base_url=live_server,
                      headers={"Authorization": f"Bearer {people}"}) as api:
        unknown = api.post("/api/v1/incidents", json={
            "source": "grid_patrol", "category": "UFO", "location": IN_T_A_1,
            "address": "西村3号"})
        assert unknown.status_code == 201, unknown.text
        incident = unknown.json()
    assert incident["status"] in ("reported", "registered")

    # the service's own Chinese: there is no incident to merge into
    console = opened(chromium, live_server, "diaodu", "/dispatch", traffic)
    console.click("#tab-awaiting")
    console.click(f"#queue-rows tr[data-id='{incident['id']}'] td.dispatch-id")
    console.fill("#merge-target", "999999")
    console.click("#merge")
    expect(console.locator(".dispatch-message[data-kind=danger]")).to_have_text(
        f"事件 #{incident['id']} 操作失败（404）：没有事件 #999999")

    # a refusal the service words in English (a department records no patrols), by its status:
    # the grid worker is moved to the environment office while walking (the page offers a
    # patrol only to those who record one, so only a change under it meets the refusal)
    phone = opened(chromium, live_server, "zhangsan", "/worker", traffic, viewport=PHONE,
                   is_mobile=True, has_touch=True, permissions=["geolocation"],
                   geolocation={"longitude": WALK[0][0], "latitude": WALK[0][1],
                                "accuracy": 5})
    phone.click("[data-tab=patrol]")
    phone.click("#patrol-toggle")
    expect(phone.locator("#patrol-points")).to_have_text("1")
    move_to(phone.context, *WALK[1])
    expect(phone.locator("#patrol-points")).to_have_text("2")
    with httpx.Client(base_url=live_server,
                      headers={"Authorization": f"Bearer {people}"}) as api:
        moved = api.patch("/api/v1/accounts/zhangsan",
                          json={"role": "department", "scope_code": "HB", "worker_code": None})
        assert moved.status_code == 200, moved.text
    phone.click("#patrol-toggle")
    expect(phone.locator("#message")).to_have_text(
        "轨迹上传未成功，稍后重试：当前账号无权进行此操作")
    assert any(line.startswith("403 ") and line.endswith("/api/v1/patrols")
               for line in traffic.bad_responses), traffic.bad_responses
    assert traffic.outside(live_server) == []
