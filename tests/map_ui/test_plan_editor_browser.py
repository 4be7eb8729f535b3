"""The plan editor in a real browser against the real service: a planner signs in through the
form, drags a vertex into the neighbour and sees the overlap, undoes it, splits a grid and
merges it back, moves a piece, meets a conflict, publishes, and locate follows; nothing leaves
the service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from tests.map_ui.browser import ARTIFACTS, chromium_page

PASSWORD = "guihua-pw-1"
Box = dict[str, float]
INSIDE_MAP = """(selector) => {
  const shape = document.querySelector(selector).getBoundingClientRect();
  const map = document.getElementById("map").getBoundingClientRect();
  return shape.left >= map.left && shape.top >= map.top && shape.right <= map.right
    && shape.bottom <= map.bottom;
}"""


def sign_in_to_editor(page: Page, origin: str, plan_id: int) -> None:
    """Open the editor, get sent to the sign-in form, sign in, and come back."""
    here = f"/plans/{plan_id}/edit"
    page.goto(f"{origin}{here}")
    assert page.url == f"{origin}/login?next={here}"
    page.fill("#username", "guihua")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}{here}")
    page.wait_for_selector("body[data-ready=true]")


def box_of(page: Page, code: str) -> Box:
    box = page.locator(f"path.pe-grid-{code}").bounding_box()
    assert box is not None, code
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


def at(box: Box, fx: float, fy: float) -> tuple[float, float]:
    """A point at a fraction of a grid's box on screen."""
    return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy


def pick(page: Page, code: str, fx: float = 0.5, fy: float = 0.5) -> None:
    page.mouse.click(*at(box_of(page, code), fx, fy))
    expect(page.locator("body")).to_have_attribute("data-selected", code)


def valid(page: Page, expected: bool) -> None:
    expect(page.locator("#validation-state")).to_have_attribute("data-valid",
                                                                str(expected).lower())


def click_points(page: Page, points: list[tuple[float, float]]) -> None:
    """Click vertices one by one (leaflet-draw takes a new vertex after a short pause)."""
    for x, y in points:
        page.mouse.click(x, y)
        page.wait_for_timeout(150)


def done(page: Page, words: str) -> None:
    expect(page.locator(".pe-message[data-kind=success]", has_text=words)).to_be_visible()


def plan_of(api: httpx.Client, plan_id: int) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/plans/{plan_id}").json())


def test_the_plan_editor_in_a_browser(live_server: str, town: dict[str, Path],
                                      db_session: Session) -> None:
    auth_service.add_account(db_session, username="guihua", role="planner", password=PASSWORD)
    token = auth_service.issue_token(db_session, username="guihua")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server, headers=headers) as api:
        made = api.post("/api/v1/plans", json={"name": "西村边界调整"})
        assert made.status_code == 201, made.text
        plan_id = made.json()["id"]
        plan_url = f"{live_server}/api/v1/plans/{plan_id}"
        with chromium_page() as (page, traffic):
            sign_in_to_editor(page, live_server, plan_id)
            for code in ("T-A-1", "T-A-2", "T-B-1", "T-B-2"):
                expect(page.locator(f"path.pe-grid-{code}")).to_have_count(1)
            valid(page, True)
            expect(page.locator("#validation-state")).to_have_text("校验通过：没有问题")
            # a metric scale bar only
            expect(page.locator(".leaflet-control-scale-line")).to_have_count(1)
            expect(page.locator(".leaflet-control-scale-line")).to_have_text(
                re.compile(r"^\d+ k?m$"))

            # drag T-A-1's south-east corner east into T-B-1 with leaflet-draw's edit handler
            pick(page, "T-A-1")
            page.click("#tool-edit")
            expect(page.locator(".leaflet-editing-icon").first).to_be_visible()
            corner = at(box_of(page, "T-A-1"), 1.0, 1.0)
            target = (corner[0] + box_of(page, "T-B-1")["width"] * 0.3, corner[1])
            page.mouse.move(*corner)
            page.mouse.down()
            page.mouse.move(*target, steps=12)
            page.mouse.up()
            page.click("#draw-save")
            done(page, "保存 T-A-1 的边界完成")
            valid(page, False)
            expect(page.locator(".pe-problem-item[data-type=overlap]")).to_be_visible()
            expect(page.locator("path.pe-problem-overlap")).to_have_count(1)
            page.click(".pe-problem-item[data-type=overlap]")
            expect(page.locator("path.pe-problem-overlap.pe-focused")).to_have_count(1)
            # the problem in words: its name and its message, no type code
            problem_text = page.locator(".pe-problem-item[data-type=overlap]").inner_text()
            assert problem_text.startswith("重叠 T-A-1、T-B-1") and "overlap" not in problem_text
            assert "T-A-1 与 T-B-1 之间" in problem_text
            assert any(p["type"] == "overlap" for p in
                       api.get(f"/api/v1/plans/{plan_id}/validation").json()["problems"])

            # undo: valid again
            page.click("#tool-undo")
            done(page, "撤销完成")
            valid(page, True)
            expect(page.locator("path.pe-problem")).to_have_count(0)
            page.click("#fit-all")
            page.wait_for_function(INSIDE_MAP, arg="path.pe-grid-T")

            # a refused edit says why in Chinese: grids of two villages cannot be merged
            pick(page, "T-A-1")
            page.click("#tool-merge")
            page.mouse.click(*at(box_of(page, "T-B-1"), 0.5, 0.5))
            page.click("#op-submit")
            expect(page.locator(".pe-refused")).to_have_text(
                "合并 T-A-1 与 T-B-1失败：只能合并同一层级、同一类型、同一上级的网格")
            valid(page, True)

            # split T-A-2 by a line across it, west to east: two grids, still valid
            pick(page, "T-A-2")
            page.click("#tool-split")
            box = box_of(page, "T-A-2")
            click_points(page, [(box["x"] - 30, at(box, 0, 0.5)[1]),
                                (box["x"] + box["width"] + 30, at(box, 0, 0.5)[1])])
            page.click("#draw-finish")
            expect(page.locator("#split-code-b")).to_have_value("T-A-2-B")
            page.click("#op-submit")
            done(page, "拆分 T-A-2完成")
            expect(page.locator("path.pe-grid-T-A-2-B")).to_have_count(1)
            valid(page, True)
            codes = {f["properties"]["code"] for f in
                     api.get(f"/api/v1/plans/{plan_id}/grids").json()["features"]}
            assert {"T-A-2", "T-A-2-B"} <= codes

            # merge them back
            pick(page, "T-A-2")
            page.click("#tool-merge")
            page.mouse.click(*at(box_of(page, "T-A-2-B"), 0.5, 0.5))
            expect(page.locator("#merge-into")).to_have_value("T-A-2")
            page.click("#op-submit")
            done(page, "合并 T-A-2 与 T-A-2-B完成")
            expect(page.locator("path.pe-grid-T-A-2-B")).to_have_count(0)
            valid(page, True)

            # a conflict: the plan is renamed behind the page's back, then the page acts
            current = plan_of(api, plan_id)
            renamed = api.patch(f"/api/v1/plans/{plan_id}", json={"note": "另一位规划员"},
                                headers={"If-Match": f'"{current["version"]}"'})
            assert renamed.status_code == 200, renamed.text
            page.click("#tool-undo")
            expect(page.locator(".pe-conflict")).to_contain_text("方案已被他人修改")
            expect(page.locator("#plan-version")).to_have_text(
                f"第 {renamed.json()['version']} 版")
            assert plan_of(api, plan_id)["version"] == renamed.json()["version"]

            # move the south-west part of T-A-2 to T-A-1
            pick(page, "T-A-2")
            page.click("#tool-move")
            box = box_of(page, "T-A-2")
            x0, x1 = box["x"] - 25, at(box, 0.5, 0)[0]
            y0, y1 = at(box, 0, 0.75)[1], box["y"] + box["height"] + 15
            click_points(page, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
            page.click("#draw-finish")
            expect(page.locator("#move-to")).to_have_value("T-A-1")
            page.click("#op-submit")
            done(page, "把 T-A-2 的一块划给 T-A-1完成")
            valid(page, True)

            # the balance tab colours level-3 grids by band and lists them
            page.click("#tab-balance")
            expect(page.locator("#metrics-rows tr[data-code='T-A-1']")).to_have_count(1)
            expect(page.locator("#metrics-rows tr.pe-out-of-band")).to_have_count(4)
            expect(page.locator("path.pe-grid-T-B-1")).to_have_attribute("fill", "#1e88e5")
            page.click("#metrics-table th[data-sort=households]")
            expect(page.locator("#metrics-table th[data-sort=households]")).to_have_attribute(
                "data-dir", "asc")
            page.click("#tab-impact")
            expect(page.locator("#impact-totals")).to_be_visible()
            # totals and per-grid counts under Chinese headers, never the API's keys
            expect(page.locator("#impact-totals tr[data-key=changed] th")).to_have_text(
                "变更网格")
            heads = page.locator("#impact-grids thead th").all_inner_texts()
            assert heads[0] == "网格" and len(heads) > 1, heads
            assert all(re.fullmatch(r"[\u4e00-\u9fff/]+", h) for h in heads), heads
            impact_text = page.locator("#impact-summary").inner_text()
            assert not re.search(r"_(in|out)\b|address_points|incidents", impact_text)
            page.click("#tab-log")
            expect(page.locator("#edit-log li[data-operation=move]")).to_have_count(1)
            expect(page.locator("#edit-log li[data-operation=move]")).to_contain_text("划出一块")
            page.click("#tab-validation")

            # publish from now, open incidents keep their handler
            page.click("#tool-publish")
            expect(page.locator("#publish-validity")).to_have_attribute("data-valid", "true")
            page.select_option("#publish-policy", "keep")
            page.click("#op-submit")
            expect(page.locator(".pe-published")).to_be_visible()
            expect(page.locator("#plan-status")).to_have_text("已发布")
            assert plan_of(api, plan_id)["status"] == "published"
            expect(page.locator("#tool-undo")).to_be_disabled()

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "plan-editor.png"))

        located = api.get("/api/v1/locate", params={"lon": 120.4025, "lat": 30.911})
        assert located.status_code == 200, located.text
        assert located.json()["grid3"]["code"] == "T-A-1"

    expected = [f"422 {plan_url}/operations", f"412 {plan_url}/undo"]
    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == expected
    assert traffic.failed == []
    # Chromium logs every answer >= 400 to the console: only the provoked 422 and 412 may
    assert [e for e in traffic.errors
            if "status of 412" not in e and "status of 422" not in e] == []
    assert any(url.endswith("/plan_editor.js") for url in traffic.requests)
    assert any(url.endswith("/leaflet.draw.js") for url in traffic.requests)


def test_a_new_draft_from_the_list_and_a_rebalance(live_server: str, town: dict[str, Path],
                                                   db_session: Session) -> None:
    auth_service.add_account(db_session, username="guihua", role="planner", password=PASSWORD)
    token = auth_service.issue_token(db_session, username="guihua")
    db_session.commit()
    with (httpx.Client(base_url=live_server,
                       headers={"Authorization": f"Bearer {token}"}) as api,
          chromium_page() as (page, traffic)):
        page.goto(f"{live_server}/plans")
        assert page.url == f"{live_server}/login?next=/plans"
        page.fill("#username", "guihua")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/plans")
        page.fill("#new-plan-name", "东村草案")
        page.click("#new-plan button[type=submit]")
        page.wait_for_url(f"{live_server}/plans/*/edit")
        page.wait_for_selector("body[data-ready=true]")
        made = api.get("/api/v1/plans").json()
        assert [p["name"] for p in made] == ["东村草案"]
        expect(page.locator("#plan-name")).to_have_text("东村草案")

        page.click("#tab-balance")
        page.fill("#band-low", "50")
        page.fill("#band-high", "100")
        page.click("#band-form button[type=submit]")
        expect(page.locator("#metrics-rows tr.pe-out-of-band")).to_have_count(4)
        page.click("#tool-rebalance")
        page.wait_for_url(lambda url: url.endswith("/edit") and
                          not url.endswith(f"/plans/{made[0]['id']}/edit"))
        page.wait_for_selector("body[data-ready=true]")
        plans = api.get("/api/v1/plans").json()
        assert len(plans) == 2 and plans[0]["id"] != made[0]["id"]
        assert page.url.endswith(f"/plans/{plans[0]['id']}/edit")

    assert traffic.outside(live_server) == []
    assert traffic.bad_responses == [] and traffic.failed == [] and traffic.errors == []
