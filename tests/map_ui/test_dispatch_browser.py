"""The dispatcher console in a real browser against the real service: signs in through the
form, counts the queues, places, assigns, re-assigns and bulk-dispatches incidents, and shows
a conflict when someone else changed an incident first; nothing leaves the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, Route, expect
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import
from tests.map_ui.browser import ARTIFACTS, chromium_page
from tests.town import handler, write_csv

PASSWORD = "diaodu-pw-1"
IN_T_A_1 = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}
EXPECTED_COUNTS = {"needs_location": "2", "awaiting": "2", "returned": "2", "overdue": "1",
                   "whistle": "1"}


def sign_in_to_console(page: Page, origin: str) -> None:
    """Open the console, get sent to the sign-in form, sign in, and come back."""
    page.goto(f"{origin}/dispatch")
    assert page.url == f"{origin}/login?next=/dispatch"
    page.fill("#username", "diaodu")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/dispatch")


def post(api: httpx.Client, path: str, body: dict[str, Any],
         version: int | None = None) -> dict[str, Any]:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    response = api.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def action(api: httpx.Client, incident: dict[str, Any], name: str,
           **body: Any) -> dict[str, Any]:
    return post(api, f"/api/v1/incidents/{incident['id']}/actions", {"action": name, **body},
                incident["version"])


def make_queues(api: httpx.Client) -> dict[str, Any]:
    """One or two incidents waiting in each queue."""
    def report(**fields: Any) -> dict[str, Any]:
        return post(api, "/api/v1/incidents", {"source": "grid_patrol", **fields})

    returned = [action(api, report(category="GARBAGE", location=IN_T_A_1,
                                   address=f"西村一组 {n}号"), "return", note="不在我的网格")
                for n in (1, 2)]
    whistled = action(api, report(category="BUILDING", location=IN_T_A_1, address="西村河边"),
                      "whistle")
    return {
        "unplaced": report(source="hotline_12345", category="GARBAGE", address="幸福路5号"),
        "nowhere": report(source="walk_in", category="GARBAGE", description="老街口垃圾成堆"),
        "unknown": [report(category="UFO", location=IN_T_A_1, address=f"西村{n}号")
                    for n in (1, 2)],
        "returned": returned,
        "whistled": whistled,
    }


def get(api: httpx.Client, incident: dict[str, Any]) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/incidents/{incident['id']}").json())


def open_queue(page: Page, key: str) -> None:
    page.click(f"#tab-{key}")
    expect(page.locator(f"#tab-{key}")).to_have_class("nav-link active")


def pick(page: Page, incident: dict[str, Any]) -> None:
    page.click(f"#queue-rows tr[data-id='{incident['id']}'] td.dispatch-id")
    expect(page.locator("#detail h2")).to_contain_text(f"#{incident['id']}")


def succeeded(page: Page, words: str) -> None:
    expect(page.locator(".dispatch-message[data-kind=success]", has_text=words)).to_be_visible()


def test_the_console_in_a_browser(live_server: str, town: dict[str, Path],
                                  auth: dict[str, str], db_session: Session,
                                  tmp_path: Path) -> None:
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    addresses = write_csv(tmp_path / "addresses.csv",
                          ["address", "lon", "lat", "village", "road", "number"],
                          [["西村幸福路5号", "120.402", "30.902", "西村", "幸福路", "5"],
                           ["东村幸福路5号", "120.415", "30.905", "东村", "幸福路", "5"]])
    assert run_import(db_session, "addresses", addresses).accepted
    db_session.commit()
    with httpx.Client(base_url=live_server, headers=auth) as api:
        made = make_queues(api)
        assert made["unplaced"]["status"] == "needs_location"
        # the whistled incident is also late (the service is idle while the test writes)
        db_session.execute(text("UPDATE incident SET due_at = now() - interval '2 hours' "
                                "WHERE id = :id"), {"id": made["whistled"]["id"]})
        db_session.commit()
        conflict_on = made["unknown"][1]
        with chromium_page() as (page, traffic):
            sign_in_to_console(page, live_server)
            for key, count in EXPECTED_COUNTS.items():
                expect(page.locator(f"[data-count={key}]")).to_have_text(count)
            page.wait_for_selector("path.dispatch-grid3")

            # needs_location: take the geocoder's second thought, the east village
            expect(page.locator("#queue-rows tr")).to_have_count(2)
            pick(page, made["unplaced"])
            page.click(".dispatch-candidate-choice button[data-address='东村幸福路5号']")
            succeeded(page, f"事件 #{made['unplaced']['id']} 已定位到东村幸福路5号")
            placed = get(api, made["unplaced"])
            assert placed["status"] == "dispatched" and placed["grid3"] == "T-B-1"
            assert handler(placed) == ("grid_worker", "W4")

            # needs_location with no address at all: click the map inside T-A-2
            pick(page, made["nowhere"])
            page.click("#place-on-map")
            box = page.locator("path.dispatch-grid-T-A-2").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
            page.click("#place-here")
            succeeded(page, f"事件 #{made['nowhere']['id']} 已定位到地图点选位置")
            clicked = get(api, made["nowhere"])
            assert clicked["grid3"] == "T-A-2" and clicked["status"] == "dispatched"
            assert handler(clicked) == ("grid_worker", "W2")
            expect(page.locator("[data-count=needs_location]")).to_have_text("0")

            # awaiting: register and dispatch to a suggested handler that is not the first
            open_queue(page, "awaiting")
            first = made["unknown"][0]
            pick(page, first)
            page.click(".dispatch-suggestion[data-to='grid_worker:W2'] button")
            succeeded(page, f"事件 #{first['id']} 已派遣给 李四")
            assigned = get(api, first)
            assert handler(assigned) == ("grid_worker", "W2")
            assert assigned["status"] == "dispatched" and assigned["version"] == 3
            expect(page.locator("[data-count=awaiting]")).to_have_text("1")

            # returned: tick both and dispatch them by the rules, one POST each
            open_queue(page, "returned")
            expect(page.locator("#queue-rows tr")).to_have_count(2)
            page.check("#select-all")
            expect(page.locator("#bulk-count")).to_have_text("2")
            page.click("#bulk-dispatch")
            succeeded(page, "批量派遣：2 / 2 起已按规则派遣")
            for incident in made["returned"]:
                again = get(api, incident)
                assert again["status"] == "dispatched", again
                assert handler(again) == ("grid_worker", "W1")
                assert again["version"] == incident["version"] + 1
            expect(page.locator("[data-count=returned]")).to_have_text("0")

            # overdue: re-assign a dispatched incident (改派: one dispatch from the handler's hands)
            open_queue(page, "overdue")
            pick(page, made["whistled"])
            page.click(".dispatch-suggestion[data-to='squad:Q2'] button")
            succeeded(page, f"事件 #{made['whistled']['id']} 已派遣给 二中队")
            moved = get(api, made["whistled"])
            assert handler(moved) == ("squad", "Q2")
            assert moved["version"] == made["whistled"]["version"] + 1

            # conflict: someone registers the incident after the dispatcher opened it
            open_queue(page, "awaiting")
            pick(page, conflict_on)
            expect(page.locator("#detail-version")).to_have_text("第 1 版")
            page.wait_for_selector(".dispatch-suggestion")
            behind = action(api, conflict_on, "register", note="另一位调度员")
            assert behind["version"] == 2
            page.click(".dispatch-suggestion[data-to='grid_worker:W1'] button")
            warning = page.locator(".dispatch-conflict")
            expect(warning).to_contain_text(f"事件 #{conflict_on['id']} 已被他人修改")
            expect(warning).to_contain_text("现为第 2 版")
            expect(page.locator("#detail-version")).to_have_text("第 2 版")
            assert get(api, conflict_on)["status"] == "registered"  # nothing was forced

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dispatch.png"))

    conflict_url = f"{live_server}/api/v1/incidents/{conflict_on['id']}/actions"
    assert traffic.outside(live_server) == []
    assert [r for r in traffic.bad_responses if r != f"412 {conflict_url}"] == []
    assert f"412 {conflict_url}" in traffic.bad_responses
    assert traffic.failed == []
    # Chromium logs every answer >= 400 to the console: only the provoked 412 may appear
    assert [e for e in traffic.errors if "status of 412" not in e] == []
    assert any(url.endswith("/dispatch.js") for url in traffic.requests)


def test_the_console_closes_what_it_opened(live_server: str, town: dict[str, Path],
                                           auth: dict[str, str], db_session: Session) -> None:
    """The center's own moves in the page: reject with a reason, merge a possible duplicate,
    re-place on the map, send a poor result back, then verify and close."""
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    db_session.commit()
    near = {"lon": 120.4022, "lat": 30.9021, "crs": "wgs84"}  # ~25 m from IN_T_A_1
    with httpx.Client(base_url=live_server, headers=auth) as api:
        def report(**fields: Any) -> dict[str, Any]:
            return post(api, "/api/v1/incidents", {"source": "hotline_12345", **fields})

        prank = report(category="UFO", location=IN_T_A_1, description="恶作剧来电")
        first = report(category="GARBAGE", location=IN_T_A_1, address="西村口")
        again = action(api, report(category="GARBAGE", location=near, address="西村口边上"),
                       "return", note="与前一件重复")
        misplaced = action(api, report(category="GARBAGE", location=IN_T_A_1), "return",
                           note="地点不在我的网格")
        done = action(api, action(api, report(category="GARBAGE", location=IN_T_A_1),
                                  "accept"), "resolve", note="已清理")
        with chromium_page() as (page, traffic):
            sign_in_to_console(page, live_server)
            page.wait_for_selector("path.dispatch-grid3")

            # reject: the page asks for a reason first
            open_queue(page, "awaiting")
            pick(page, prank)
            page.click("#reject")
            expect(page.locator(".dispatch-message[data-kind=warning]")).to_contain_text(
                "不予受理的理由")
            page.fill("#detail-note", "恶作剧，已电话告知")
            page.click("#reject")
            succeeded(page, f"事件 #{prank['id']} 已不予受理")
            assert get(api, prank)["status"] == "rejected"

            # merge: the returned report is a possible duplicate of the first
            open_queue(page, "returned")
            pick(page, again)
            page.click(f"[data-merge-into='{first['id']}']")
            succeeded(page, f"已并入 #{first['id']}")
            assert get(api, again)["status"] == "rejected"
            links = api.get(f"/api/v1/incidents/{again['id']}/links").json()
            assert {"merged_into"} <= {link["kind"] for link in links}

            # re-place: a click inside T-B-2, then dispatched by the rules there
            pick(page, misplaced)
            page.click("#place-on-map")
            box = page.locator("path.dispatch-grid-T-B-2").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
            page.click("#place-here")
            succeeded(page, f"事件 #{misplaced['id']} 已重新定位到地图点选位置")
            moved = get(api, misplaced)
            assert moved["grid3"] == "T-B-2" and moved["status"] == "returned"
            page.click("#dispatch-by-rule")
            succeeded(page, f"事件 #{misplaced['id']} 已派遣给")
            assert handler(get(api, misplaced)) == ("grid_worker", "W4")

            # a poor result goes back with a reason; a good one is verified and closed
            open_queue(page, "to_verify")
            pick(page, done)
            page.fill("#detail-note", "现场仍有垃圾")
            page.click("#reopen")
            succeeded(page, f"事件 #{done['id']} 已重新派遣")
            redone = action(api, action(api, get(api, done), "accept"), "resolve",
                            note="已彻底清理")
            page.click("#tab-to_verify")
            pick(page, redone)
            page.click("#verify")
            succeeded(page, "核查通过")
            open_queue(page, "to_close")
            pick(page, redone)
            page.select_option("#close-resolution", "management")
            page.click("#close")
            succeeded(page, "已结案")
            closed = get(api, redone)
            assert (closed["status"], closed["resolution"]) == ("closed", "management")
            history = [h["action"] for h in api.get(
                f"/api/v1/incidents/{redone['id']}/history").json()]
            assert history[-6:] == ["resolve", "reopen", "accept", "resolve", "verify", "close"]
            expect(page.locator(".dispatch-history li").first).to_contain_text("结案")
    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == [] and traffic.failed == [] and traffic.errors == []


def test_a_move_during_the_reload_is_taken(live_server: str, town: dict[str, Path],
                                           auth: dict[str, str], db_session: Session) -> None:
    """A slow network: the reload after one move (queues, suggestions, history) takes seconds,
    and the dispatcher's next click in that time is taken, not dropped."""
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    db_session.commit()
    with httpx.Client(base_url=live_server, headers=auth) as api:
        unplaced = post(api, "/api/v1/incidents", {
            "source": "hotline_12345", "description": "路边垃圾", "address": "西村幸福路"})
        assert unplaced["status"] == "needs_location"
        with chromium_page() as (page, traffic):
            sign_in_to_console(page, live_server)
            pick(page, unplaced)
            held: list[Route] = []  # the history answers, kept back until the move is made

            def hold(route: Route) -> None:
                held.append(route)

            page.route("**/history", hold)
            page.select_option("#category-pick", "GARBAGE")
            page.click("#set-category")
            succeeded(page, "类别设为")
            page.click("#place-on-map")  # while the history is still on its way
            box = page.locator("path.dispatch-grid-T-A-1").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
            page.click("#place-here")
            succeeded(page, f"事件 #{unplaced['id']} 已定位到地图点选位置")
            assert held, "the reload was still waiting for the history"
            for route in held:
                route.continue_()
            page.unroute("**/history", hold)
            placed = get(api, unplaced)
            assert placed["status"] == "dispatched" and placed["grid3"] == "T-A-1"
            expect(page.locator("ol.dispatch-history li[data-action=dispatch]")).to_have_count(1)
            assert traffic.outside(live_server) == [] and traffic.failed == []


def test_what_the_dispatcher_does_survives_late_answers(
        live_server: str, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    """A slow network: the picked incident's history arrives after the dispatcher has begun.
    The spot clicked on the map stays, and the note being typed keeps its focus and words,
    when the detail is drawn again."""
    auth_service.add_account(db_session, username="diaodu", role="dispatcher",
                             password=PASSWORD)
    db_session.commit()
    with httpx.Client(base_url=live_server, headers=auth) as api:
        misplaced = action(api, post(api, "/api/v1/incidents", {
            "source": "hotline_12345", "category": "GARBAGE", "location": IN_T_A_1}),
            "return", note="地点不在我的网格")
        done = action(api, action(api, post(api, "/api/v1/incidents", {
            "source": "hotline_12345", "category": "GARBAGE", "location": IN_T_A_1}),
            "accept"), "resolve", note="已清理")
        with chromium_page() as (page, traffic):
            sign_in_to_console(page, live_server)
            page.wait_for_selector("path.dispatch-grid3")
            held: list[Route] = []

            def hold(route: Route) -> None:
                held.append(route)

            def let_through() -> None:
                for route in held:
                    route.continue_()
                held.clear()

            page.route("**/history", hold)
            open_queue(page, "returned")
            pick(page, misplaced)
            page.click("#place-on-map")
            box = page.locator("path.dispatch-grid-T-B-2").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
            expect(page.locator("#place-here")).to_be_visible()
            assert held, "the history was still on its way"
            let_through()
            expect(page.locator("ol.dispatch-history li").first).to_be_visible()
            page.click("#place-here")
            succeeded(page, f"事件 #{misplaced['id']} 已重新定位到地图点选位置")
            assert get(api, misplaced)["grid3"] == "T-B-2"

            open_queue(page, "to_verify")
            pick(page, done)
            page.click("#detail-note")
            page.keyboard.type("现场仍")
            assert held, "the history was still on its way"
            let_through()
            expect(page.locator("ol.dispatch-history li").first).to_be_visible()
            page.keyboard.type("有垃圾")
            expect(page.locator("#detail-note")).to_have_value("现场仍有垃圾")
            page.unroute("**/history", hold)
            page.click("#reopen")
            succeeded(page, f"事件 #{done['id']} 已重新派遣")
    assert traffic.failed == [] and traffic.errors == []
