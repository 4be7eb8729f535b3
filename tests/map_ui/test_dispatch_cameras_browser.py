"""A camera's detections in the dispatcher console, in a real browser: a detection waiting for a
person shows the camera, the scene and how sure the algorithm was, its snapshot, and the
moves the lifecycle allows from there — 确认并派遣 routes it by its scene's category, 不予受理
ends a false alarm; a repeat folded into a waiting one shows in its count."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import
from tests.gis_service.cameras.conftest import CAMERAS, SCENES, WEST, write_cameras, write_scenes
from tests.map_ui.browser import ARTIFACTS, chromium_page
from tests.map_ui.test_dispatch_browser import (
    PASSWORD,
    get,
    open_queue,
    pick,
    sign_in_to_console,
    succeeded,
)
from tests.town import handler


def _png() -> bytes:
    """A 4×3 grey PNG: a snapshot the service stores by its content."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + b"\x80" * 4 for _ in range(3))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _detect(api: httpx.Client, scene: str, confidence: float, at: datetime) -> dict[str, Any]:
    response = api.post("/api/v1/incidents", json={
        "source": "video", "camera_code": WEST, "scene": scene, "confidence": confidence,
        "reported_at": at.isoformat()})
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _detail(page: Page, words: str) -> None:
    expect(page.locator("#detail")).to_contain_text(words)


def test_the_console_confirms_and_rejects_camera_detections(
        live_server: str, town: dict[str, Path], auth: dict[str, str], db_session: Session,
        tmp_path: Path) -> None:
    for kind, path in (("cameras", write_cameras(tmp_path, CAMERAS)),
                       ("video_scenes", write_scenes(tmp_path, SCENES))):
        assert run_import(db_session, kind, path).accepted
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    db_session.commit()
    now = datetime.now(UTC)
    with httpx.Client(base_url=live_server, headers=auth) as api:
        # an intrusion alarm a person must always confirm (gb28181:6 → FLOOD), with a snapshot
        alarm = _detect(api, "gb28181:6", 1.0, now - timedelta(minutes=10))
        sent = api.post(f"/api/v1/incidents/{alarm['id']}/photos",
                        files={"file": ("snapshot.png", _png(), "image/png")})
        assert sent.status_code == 201, sent.text
        # the same alarm a minute later folds into it, and waits with it
        assert _detect(api, "gb28181:6", 1.0, now - timedelta(minutes=9))["id"] == alarm["id"]
        # garbage the algorithm is not sure of (below 暴露垃圾's 0.5): a false alarm
        unsure = _detect(api, "暴露垃圾", 0.3, now - timedelta(minutes=8))
        assert alarm["status"] == unsure["status"] == "needs_confirmation"

        with chromium_page() as (page, traffic):
            sign_in_to_console(page, live_server)
            open_queue(page, "awaiting")
            expect(page.locator(f"#queue-rows tr[data-id='{alarm['id']}']")).to_be_visible()

            pick(page, alarm)
            expect(page.locator("#detail-status")).to_have_text("待确认")
            expect(page.locator("#detail-camera")).to_have_text(WEST)
            expect(page.locator("#detail-scene")).to_have_text("gb28181:6，置信度 100%")
            expect(page.locator("#detail-detections")).to_contain_text("2 次")
            snapshot = page.locator("#detail img.dispatch-photo")
            expect(snapshot).to_have_count(1)
            page.wait_for_function("document.querySelector('#detail img.dispatch-photo')"
                                   ".naturalWidth === 4")
            # only what the lifecycle allows from here: confirm or reject, no hand-over moves
            expect(page.locator("#confirm")).to_have_text("确认并派遣")
            expect(page.locator("#reject")).to_be_visible()
            expect(page.locator("#verify, #close, #reopen")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "dispatch-camera-confirm.png"))
            page.click("#confirm")
            succeeded(page, f"事件 #{alarm['id']} 已确认，已按规则派遣")
            confirmed = get(api, alarm)
            assert confirmed["status"] == "dispatched" and confirmed["category"] == "FLOOD"
            assert handler(confirmed) is not None
            expect(page.locator("#detail-status")).to_have_text("已派遣")
            expect(page.locator("#confirm")).to_have_count(0)

            # the false alarm: a reason is asked for, then it is ended
            pick(page, unsure)
            _detail(page, "置信度 30%")
            page.click("#reject")
            expect(page.locator(".dispatch-message[data-kind=warning]")).to_contain_text(
                "不予受理的理由")
            page.fill("#detail-note", "算法误报：路边是收集点")
            page.click("#reject")
            succeeded(page, f"事件 #{unsure['id']} 已不予受理")
            assert get(api, unsure)["status"] == "rejected"

            assert traffic.outside(live_server) == [] and traffic.failed == []
