"""The phone page without signal, in a real browser (Debian's Chromium, its offline emulation)
against the real service: after a first visit the page opens from the phone; 10 reports (one
with a photo), an action on a task and a patrol made offline wait on the phone, listed; back
online each arrives exactly once — and still once when the phone sends them all again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import FilePayload, Page
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.auth.models import Account
from tests.map_ui.browser import ARTIFACTS
from tests.map_ui.phone import move_to, phone_page, sign_in_on_phone

PASSWORD = "field-pw-1"
HERE = (120.4035, 30.9042)  # inside T-A-1 (the phone's GPS: WGS84)
WALK = [(120.4012, 30.9012), (120.4020, 30.9012), (120.4028, 30.9014), (120.4030, 30.9022)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHOTO: FilePayload = {"name": "scene.png", "mimeType": "image/png", "buffer": PNG}
REPORTS = 10
WITH_PHOTO = 3  # the report that carries a photo
OFFLINE = "ERR_INTERNET_DISCONNECTED"

# the phone's outbox copied aside (photos included) while everything waits, and put back
# after it was sent: the page then sends it all again, as after answers lost on the way
COPY = """async () => {
  const open = (name, upgrade) => new Promise((resolve, reject) => {
    const opening = indexedDB.open(name, 1);
    if (upgrade) opening.onupgradeneeded = () => upgrade(opening.result);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const done = (t) => new Promise((resolve, reject) => {
    t.oncomplete = resolve; t.onerror = () => reject(t.error); });
  const outbox = await open("gis-worker");
  const asked = outbox.transaction("outbox").objectStore("outbox").getAll();
  await done(asked.transaction);
  const aside = await open("outbox-aside", (db) => db.createObjectStore("items", {keyPath: "id"}));
  const write = aside.transaction("items", "readwrite");
  for (const item of asked.result) write.objectStore("items").put(item);
  await done(write);
  return asked.result.length;
}"""
PUT_BACK = """async () => {
  const open = (name) => new Promise((resolve, reject) => {
    const opening = indexedDB.open(name, 1);
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const done = (t) => new Promise((resolve, reject) => {
    t.oncomplete = resolve; t.onerror = () => reject(t.error); });
  const aside = await open("outbox-aside");
  const asked = aside.transaction("items").objectStore("items").getAll();
  await done(asked.transaction);
  const outbox = await open("gis-worker");
  const write = outbox.transaction("outbox", "readwrite");
  for (const item of asked.result) write.objectStore("outbox").put(item);
  await done(write);
  return asked.result.length;
}"""


@pytest.fixture()
def field_account(db_session: Session) -> str:
    """A grid worker of T-A-1 who is worker W1 (张三), with a password."""
    auth_service.add_account(db_session, username="zhangsan", role="grid_worker",
                             scope_code="T-A-1", password=PASSWORD)
    db_session.execute(update(Account).where(Account.username == "zhangsan")
                       .values(worker_code="W1"))
    db_session.commit()
    return "zhangsan"


def waiting(page: Page, count: int) -> None:
    page.wait_for_function(
        f"document.getElementById('outbox').dataset.waiting === '{count}'")


def all_sent(page: Page) -> None:
    """Wait until the outbox has sent everything (its news said, the list gone)."""
    page.wait_for_function("document.getElementById('message').textContent"
                           ".includes('待发送的内容已发出')", timeout=30000)
    page.wait_for_function("document.getElementById('outbox').hidden")


def arrived(api: httpx.Client, task_id: int) -> dict[str, Any]:
    """What the service holds of what the phone made."""
    items = api.get("/api/v1/incidents", params={"limit": 500}).json()["items"]
    reports = [i for i in items if (i.get("description") or "").startswith("离线上报")]
    by_text: dict[str, list[int]] = {}
    for report in reports:
        by_text.setdefault(report["description"], []).append(report["id"])
    [photo_report] = by_text[f"离线上报 {WITH_PHOTO}"]
    photos = api.get(f"/api/v1/incidents/{photo_report}/photos").json()
    tracks = api.get("/api/v1/patrols").json()["features"]
    history = api.get(f"/api/v1/incidents/{task_id}/history").json()
    return {"reports": {text: len(ids) for text, ids in by_text.items()},
            "photos": [p["taken_by"] for p in photos],
            "tracks": [len(t["geometry"]["coordinates"]) for t in tracks],
            "accepts": [h["actor"] for h in history if h["action"] == "accept"],
            "task": api.get(f"/api/v1/incidents/{task_id}").json()["status"]}


def test_made_offline_arrives_once(live_server: str, town: dict[str, Any],
                                   auth: dict[str, str], field_account: str) -> None:
    api = httpx.Client(base_url=live_server, headers=auth)
    task = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "category": "GARBAGE", "address": "西村一组 村口",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}}).json()
    assert task["status"] == "dispatched" and task["assignee"]["code"] == "W1"

    with phone_page(*HERE) as (page, context, traffic):
        failed_in_worker: list[str] = []
        context.on("requestfailed", lambda r: failed_in_worker.append(r.url)
                   if r.service_worker is not None else None)
        # a first visit, with signal: the service worker takes the page and its assets
        sign_in_on_phone(page, live_server, field_account, PASSWORD)
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.locator(f'li.w-task[data-id="{task["id"]}"]').wait_for()
        page.locator("#category option[value=GARBAGE]").wait_for(state="attached")
        manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href)"
                                 ".then((r) => r.json())")
        assert manifest["start_url"] == "/worker" and manifest["display"] == "standalone"

        # no signal: the page opens from the phone, with its categories and tasks as kept
        context.set_offline(True)
        opened = page.reload()
        assert opened is not None and opened.ok and opened.from_service_worker
        assert any(url.endswith("/worker") for url in failed_in_worker)  # the network failed
        assert "张三" in page.inner_text("#who")
        page.locator("#net").wait_for()  # says it is offline
        page.locator("#category option[value=GARBAGE]").wait_for(state="attached")
        card = page.locator(f'li.w-task[data-id="{task["id"]}"]')
        card.wait_for()
        assert "离线" in page.inner_text("#tasks")

        # an action on the task: kept, and the task shown as it will be
        card.locator("button[data-action=accept]").click()
        waiting(page, 1)
        page.locator(f'li.w-task[data-id="{task["id"]}"][data-status="accepted"]').wait_for()
        assert "网络不通" in page.inner_text("#message")

        # ten reports, one with a photo
        page.click("[data-tab=report]")
        page.click("#locate")
        page.wait_for_function("document.getElementById('position').textContent"
                               ".includes('经度')")
        for number in range(REPORTS):
            page.select_option("#category", "GARBAGE")
            page.fill("#description", f"离线上报 {number}")
            if number == WITH_PHOTO:
                page.set_input_files("#report-photo", files=[PHOTO])
            page.click("#submit-report")
            waiting(page, number + 2)
            assert page.input_value("#description") == ""
        assert "已存在手机上" in page.inner_text("#report-result")

        # a patrol walked without signal
        page.click("[data-tab=patrol]")
        move_to(context, *WALK[0])
        page.click("#patrol-toggle")
        for number, (lon, lat) in enumerate(WALK):
            move_to(context, lon, lat)
            page.wait_for_function(
                f"Number(document.getElementById('patrol-points').textContent) >= {number + 1}")
        page.click("#patrol-toggle")
        page.wait_for_function("document.getElementById('patrol-state').textContent"
                               ".includes('待恢复网络后上传')")
        waiting(page, REPORTS + 2)

        # the worker sees what waits, and what each is
        assert page.inner_text("#outbox-count") == f"待发送 {REPORTS + 2} 条"
        rows = page.locator("#outbox-list li")
        kinds = [rows.nth(n).get_attribute("data-kind") for n in range(rows.count())]
        assert kinds == ["action"] + ["report"] * REPORTS + ["patrol"]
        assert page.locator("#outbox-list li[data-state=waiting]").count() == REPORTS + 2
        texts = rows.all_inner_texts()
        assert "接单" in texts[0] and f"#{task['id']}" in texts[0]
        assert "离线上报 0" in texts[1] and "等待网络" in texts[1]
        assert "含照片 1 张" in texts[1 + WITH_PHOTO]
        assert f"{len(WALK)} 个定位点" in texts[-1]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "worker_offline.png"), full_page=True)
        assert page.evaluate(COPY) == REPORTS + 2

        # signal again: everything goes out, once
        context.set_offline(False)
        all_sent(page)
        once = {f"离线上报 {n}": 1 for n in range(REPORTS)}
        first = arrived(api, task["id"])
        assert first == {"reports": once, "photos": [field_account], "tracks": [len(WALK)],
                         "accepts": [field_account], "task": "accepted"}

        # the phone sends it all again (answers lost on the way): still once each
        assert page.evaluate(PUT_BACK) == REPORTS + 2
        page.reload()
        all_sent(page)
        assert arrived(api, task["id"]) == first

    api.close()
    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == []  # a repeat is answered 200, the action's too (no 412)
    assert all(OFFLINE in failure for failure in traffic.failed)
    assert [e for e in traffic.errors if OFFLINE not in e] == []


def test_what_the_service_refuses_is_shown_and_not_sent_again(
        live_server: str, town: dict[str, Any], auth: dict[str, str],
        field_account: str) -> None:
    api = httpx.Client(base_url=live_server, headers=auth)
    task = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "category": "GARBAGE",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}}).json()

    with phone_page(*HERE) as (page, context, traffic):
        sign_in_on_phone(page, live_server, field_account, PASSWORD)
        card = page.locator(f'li.w-task[data-id="{task["id"]}"]')
        card.wait_for()

        # accepted on the phone without signal, while the center moves the task on
        context.set_offline(True)
        card.locator("button[data-action=accept]").click()
        waiting(page, 1)
        assert page.locator("#outbox-send").is_disabled()  # nothing to try without signal
        current = api.get(f"/api/v1/incidents/{task['id']}")
        moved = api.post(f"/api/v1/incidents/{task['id']}/actions", json={"action": "accept"},
                         headers={"If-Match": current.headers["etag"]})
        assert moved.status_code == 200, moved.text

        # back online: refused for the version it was made on, shown with the reason
        context.set_offline(False)
        failed = page.locator("#outbox-list li[data-state=failed]")
        failed.wait_for()
        assert "未能发送" in failed.inner_text() and "他人修改" in failed.inner_text()
        assert page.inner_text("#outbox-count") == "待发送 0 条，未能发送 1 条"

        # and not tried again: neither by itself nor when the worker sends what waits
        page.evaluate("window.workerOutbox.flush()")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(300)
        refused = [r for r in traffic.bad_responses if "/actions" in r]
        assert len(refused) == 1 and refused[0].startswith("412 ")
        assert failed.count() == 1

        # the worker lets it go
        failed.locator("button[data-do=drop]").click()
        page.wait_for_function("document.getElementById('outbox').hidden")

    api.close()
    assert traffic.bad_responses == refused
    assert [e for e in traffic.errors if OFFLINE not in e and "412" not in e] == []
