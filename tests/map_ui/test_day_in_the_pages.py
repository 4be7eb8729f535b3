"""A day at the command center on the full demo town, done in the pages alone: the phone page
lists exactly the grid worker's tasks; a hotline report with a messy address is given its
category and placed from a candidate in the console, dispatched, accepted, started and
resolved with a photo on the phone, verified, closed and evaluated in the console, with the
wall following each step; after the deadline scheduler has run, overdue work is still counted
and everything waiting on the center sits in a console queue."""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.config import Settings
from gis_service.demo import DEMO_PASSWORD
from gis_service.incidents.audit import verify_all
from gis_service.incidents.queries import QUEUES
from gis_service.main import create_app
from tests.map_ui.browser import ARTIFACTS, Traffic, launch_chromium, wait_for_live
from tests.map_ui.fixtures import serving
from tests.map_ui.phone import PHONE
from tests.map_ui.test_worker_browser import PNG

ADDRESSES = Path(__file__).resolve().parents[2] / "data" / "demo" / "addresses.csv"
OPEN = "status NOT IN ('closed', 'rejected')"
# what waits on the command center: its own, and every state only the center moves on from
CENTERS_MOVE = ("assignee_type IN ('town', 'county') OR status IN ('reported', "
                "'registered', 'needs_location', 'returned', 'resolved', 'verified')")

# the first test here may be the one that loads the demo for the session (~3 min on a
# quiet machine, more on a busy one): more time than a test usually gets
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def demo(demo_copy: str) -> Iterator[tuple[str, Engine]]:
    """The demo loaded by the command, as an operator does (the session's load, copied):
    (url, engine)."""
    engine = create_engine(demo_copy)
    yield demo_copy, engine
    engine.dispose()


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def ids(engine: Engine, sql: str, **params: Any) -> set[int]:
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(text(sql), params)}



def signed_in(chromium: Browser, origin: str, username: str, where: str, traffic: Traffic,
              phone: bool = False) -> Page:
    """A page of `where` in a context of its own, signed in through the form as `username`."""
    options: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
    if phone:
        options.update(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    else:
        options["viewport"] = {"width": 1600, "height": 900}
    page = chromium.new_context(**options).new_page()
    traffic.watch(page)
    page.goto(f"{origin}{where}")
    assert page.url == f"{origin}/login?next={where}"
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}{where}")
    return page


def admin_api(engine: Engine, origin: str) -> httpx.Client:
    """The 12345 platform's client: a bearer token of the demo's admin."""
    with Session(engine) as session:
        token = auth_service.issue_token(session, username="admin")
        session.commit()
    return httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {token}"},
                        timeout=30)


def worker_tasks(engine: Engine, worker: str) -> set[int]:
    """Open tasks a worker holds, or holds for an absent A post it backs up."""
    return ids(engine, "SELECT i.id FROM incident i WHERE i.assignee_type = 'grid_worker' "
                       "AND i.status IN ('dispatched', 'accepted', 'in_progress') "
                       "AND (i.assignee_code = :w OR i.assignee_code IN (SELECT code FROM "
                       "worker WHERE backup_code = :w AND NOT on_duty))", w=worker)


def listed_tasks(phone: Page) -> set[int]:
    phone.wait_for_function("!document.querySelector('#tasks .w-empty') || "
                            "!document.querySelector('#tasks .w-empty').textContent"
                            ".includes('加载中')")
    return {int(i) for i in phone.locator("#tasks li[data-id]").evaluate_all(
        "items => items.map(i => i.dataset.id)")}


def a_road_inside(api: httpx.Client, grid: str) -> tuple[str, str]:
    """(village, road) of a demo road whose every house lies in `grid`."""
    with ADDRESSES.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["road"] and r["number"]]
    located = api.post("/api/v1/locate", json={
        "crs": "cgcs2000", "points": [[float(r["lon"]), float(r["lat"])] for r in rows]})
    assert located.status_code == 200, located.text
    grids: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for row, where in zip(rows, located.json()["results"], strict=True):
        grids[(row["village"], row["road"])].add((where["grid3"] or {}).get("code"))
    inside = sorted(key for key, found in grids.items() if found == {grid})
    assert inside, f"no demo road lies wholly in {grid}"
    return inside[0]


def wall_status(wall: Page, incident_id: int, status: str | None) -> None:
    """Wait (up to the wall's poll and a margin) until the wall shows the incident so."""
    marker = f"window.wallState.markers[{incident_id}]"
    if status is None:
        wall.wait_for_function(f"!{marker}", timeout=8000)
    else:
        wall.wait_for_function(f"{marker} && {marker}.item.status === '{status}'", timeout=8000)


def console_step(console: Page, queue: str, incident_id: int, traffic: Traffic) -> None:
    """Open a queue of the console and pick the incident in it."""
    console.click(f"#tab-{queue}")
    row = console.locator(f"#queue-rows tr[data-id='{incident_id}'] td.dispatch-id")
    expect(row).to_be_visible(timeout=10000)
    row.click()
    try:
        expect(console.locator("#detail h2")).to_contain_text(f"#{incident_id}")
    except AssertionError as failed:  # say what the page said, not only what is missing
        raise AssertionError(f"the detail did not open: {traffic.errors}") from failed


def succeeded(console: Page, words: str) -> None:
    expect(console.locator(".dispatch-message[data-kind=success]",
                           has_text=words)).to_be_visible(timeout=10000)


def test_a_hotline_report_goes_round_the_loop_in_the_pages(demo: tuple[str, Engine]) -> None:
    url, engine = demo
    grid, worker, name = (scalar(engine, sql) for sql in (
        "SELECT scope_code FROM account WHERE username = 'gridworker'",
        "SELECT worker_code FROM account WHERE username = 'gridworker'",
        "SELECT w.name FROM worker w JOIN account a ON a.worker_code = w.code "
        "WHERE a.username = 'gridworker'"))
    settings = Settings(database_url=url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0, webhook_poll_seconds=0)
    traffic = Traffic()
    with serving(create_app(settings)) as origin, admin_api(engine, origin) as api, \
            launch_chromium() as chromium:
        phone = signed_in(chromium, origin, "gridworker", "/worker", traffic, phone=True)
        # a year of history in the grid, and the phone lists exactly the worker's open tasks
        assert scalar(engine, "SELECT count(*) FROM incident WHERE grid3_code = :g",
                      g=grid) > 100
        assert listed_tasks(phone) == worker_tasks(engine, worker)
        console = signed_in(chromium, origin, "dispatcher", "/dispatch", traffic)
        wall = signed_in(chromium, origin, "commander", "/", traffic)
        wait_for_live(wall)

        village, road = a_road_inside(api, grid)
        report = api.post("/api/v1/incidents", json={
            "source": "hotline_12345", "external_id": "12345-DAY-1",
            "description": "路边垃圾堆了好几天，没人来清",
            "address": f"七都镇{village}{road}边上 垃圾堆了好几天"})
        assert report.status_code == 201, report.text
        incident = report.json()
        number = incident["id"]
        assert incident["status"] == "needs_location" and incident["category"] is None
        assert incident["candidates"], "the geocoder offers where it might be"

        # the console: set the category, place it from a candidate, dispatched by the rules
        console_step(console, "needs_location", number, traffic)
        expect(console.locator("#detail-geocode")).to_contain_text("未能自动定位")
        console.select_option("#category-pick", "GARBAGE")
        console.click("#set-category")
        succeeded(console, "类别设为“暴露垃圾”")
        candidate = console.locator(".dispatch-candidate-choice", has_text=road).first
        expect(candidate).to_contain_text("可信度")
        candidate.locator("button").click()
        succeeded(console, f"按规则派遣给 网格员 {name}")
        wall_status(wall, number, "dispatched")

        # the phone: the new task is listed; accept, start, resolve with a photo
        phone.click("#reload")
        card = phone.locator(f"#tasks li[data-id='{number}']")
        expect(card).to_be_visible()
        card.locator("button[data-action=accept]").click()
        expect(phone.locator(f"#tasks li[data-id='{number}'][data-status=accepted]")
               ).to_be_visible()
        wall_status(wall, number, "accepted")
        phone.locator(f"#tasks li[data-id='{number}'] button[data-action=start]").click()
        card = phone.locator(f"#tasks li[data-id='{number}'][data-status=in_progress]")
        expect(card).to_be_visible()
        card.locator("textarea").fill("已清理，拍照为证")
        card.locator("input[type=file]").set_input_files(
            files=[{"name": "done.png", "mimeType": "image/png", "buffer": PNG}])
        card.locator("button[data-action=resolve]").click()
        card.wait_for(state="detached")
        wall_status(wall, number, "resolved")

        # the console: verify, close as solved by service, record the caller's satisfaction
        console_step(console, "to_verify", number, traffic)
        console.click("#verify")
        succeeded(console, "核查通过")
        wall_status(wall, number, "verified")
        console_step(console, "to_close", number, traffic)
        console.select_option("#close-resolution", "service")
        console.click("#close")
        succeeded(console, "已结案")
        wall_status(wall, number, None)  # closed: off the live wall
        console.select_option("#evaluate-score", "5")
        console.click("#evaluate")
        expect(console.locator("#evaluated")).to_contain_text("满意度 5/5")
        expect(console.locator(".dispatch-history li").first).to_contain_text("评价")
        ARTIFACTS.mkdir(exist_ok=True)
        console.screenshot(path=str(ARTIFACTS / "day-console.png"))
        phone.screenshot(path=str(ARTIFACTS / "day-phone.png"))

        done = api.get(f"/api/v1/incidents/{number}").json()
        assert (done["status"], done["resolution"], done["satisfaction"]) == (
            "closed", "service", 5)
        assert done["grid3"] == grid and done["assignee"]["code"] == worker
        history = [h["action"] for h in api.get(f"/api/v1/incidents/{number}/history").json()]
        assert history == ["report", "needs_location", "categorize", "dispatch", "accept",
                           "start", "attach_photo", "resolve", "verify", "close", "evaluate"]
    with Session(engine) as session:
        assert list(verify_all(session)) == []
    assert traffic.outside(origin) == []
    assert traffic.failed == [] and traffic.errors == []
    assert traffic.bad_responses == []


def queue_ids(api: httpx.Client, queue: str) -> set[int]:
    found: set[int] = set()
    params: dict[str, Any] = {"queue": queue, "limit": 500}
    while True:
        page = api.get("/api/v1/incidents", params=params).json()
        found |= {item["id"] for item in page["items"]}
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


def test_after_the_scheduler_overdue_is_counted_and_the_center_s_work_is_queued(
        demo: tuple[str, Engine]) -> None:
    url, engine = demo
    late = ids(engine, f"SELECT id FROM incident WHERE {OPEN} AND due_at < now()")
    assert late, "the demo has overdue work"
    settings = Settings(database_url=url, locator_refresh_seconds=0,
                        escalation_interval_seconds=0.5, webhook_poll_seconds=0)
    traffic = Traffic()
    with serving(create_app(settings)) as origin, admin_api(engine, origin) as api, \
            launch_chromium() as chromium:
        deadline = time.monotonic() + 60
        while scalar(engine, f"SELECT count(*) FROM incident WHERE {OPEN} AND due_at < now() "
                             "AND escalation_level < 2 AND status NOT IN "
                             "('resolved', 'verified')"):
            assert time.monotonic() < deadline, "the scheduler did not escalate"
            time.sleep(0.5)
        escalated = ids(engine, "SELECT id FROM incident WHERE escalation_level > 0")
        assert escalated and escalated <= ids(engine, "SELECT id FROM incident "
                                                      "WHERE overdue_since IS NOT NULL")
        kpi = api.get("/api/v1/wall/kpi").json()
        assert kpi["overdue"] >= len(late)
        assert queue_ids(api, "overdue") >= late  # handed up, still overdue
        waiting = ids(engine, f"SELECT id FROM incident WHERE {OPEN} AND ({CENTERS_MOVE})")
        queued = set().union(*(queue_ids(api, queue) for queue in QUEUES))
        assert waiting - queued == set()

        wall = signed_in(chromium, origin, "commander", "/", traffic)
        wait_for_live(wall)
        expect(wall.locator("#kpi-overdue")).to_have_text(str(kpi["overdue"]))
        console = signed_in(chromium, origin, "dispatcher", "/dispatch", traffic)
        counts = api.get("/api/v1/incidents/queues").json()
        assert counts["center"] > 0 and counts["overdue"] >= len(late)
        for queue, count in counts.items():
            expect(console.locator(f"[data-count={queue}]")).to_have_text(str(count))
        console.click("#tab-center")
        expect(console.locator("#queue-rows tr").first).to_be_visible()
    assert traffic.outside(origin) == []
    assert traffic.failed == [] and traffic.errors == [] and traffic.bad_responses == []
