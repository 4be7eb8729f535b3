"""Repair within tolerance in the plan editor, in a real browser, as a planner: the demo town
cut to 6 decimals (as GDAL writes it) is imported through the plan list, its slivers are shown
with the offer to repair them; the repair lists what it did, each line leads to its place, the
plan validates, and undo brings the problems back. A stale page meets the usual conflict. The
town cut to 5 decimals has rings folded by rounding: the import refuses it, offers the repair,
and imports it repaired within 1 m. Nothing leaves the service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from bench.boundary_noise import rounded
from gis_service.auth import service as auth_service
from grid_layers.repair import REPAIR_KINDS
from map_ui.plan_editor import REPAIR_NAMES, editor_page, list_page
from tests.gis_service.imports.test_grid_repair import write
from tests.grid_layers.test_repair import EXACT
from tests.map_ui.browser import ARTIFACTS, Traffic, chromium_page
from tests.map_ui.test_plan_editor_browser import PASSWORD, done, valid
from tests.map_ui.test_plan_editor_page import config_of, data

CENTRED = """() => {
  const mark = document.querySelector("path.pe-repair-marker").getBoundingClientRect();
  const map = document.getElementById("map").getBoundingClientRect();
  return Math.hypot(mark.left + mark.width / 2 - (map.left + map.width / 2),
                    mark.top + mark.height / 2 - (map.top + map.height / 2));
}"""


def test_only_a_planner_is_offered_repair_and_import() -> None:
    editor = editor_page(data())
    assert 'id="repair-form"' in editor and "/static/map_ui/plan_api.js" in editor
    config = config_of(editor)
    assert set(config["repairs"]) == set(REPAIR_KINDS) and config["tolerance"] == {
        "default": 0.5, "max": 5.0}
    assert config["operations"]["repair"] == "容差内修复"
    for page in (editor_page(data(role="commander")), editor_page(data(status="published"))):
        assert 'id="repair-form"' not in page
    assert 'id="import-plan"' in list_page([], username="guihua", role="planner")
    assert 'id="import-plan"' not in list_page([], username="zhang", role="commander")


def sign_in_to_list(page: Page, origin: str) -> None:
    """Open the plan list, get sent to the sign-in form, sign in, and come back."""
    page.goto(f"{origin}/plans")
    assert page.url == f"{origin}/login?next=/plans"
    page.fill("#username", "guihua")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{origin}/plans")


def import_file(page: Page, path: Path, name: str) -> None:
    """Choose the file in the list's import form and send it."""
    page.set_input_files("#import-file", str(path))
    page.fill("#import-name", name)
    page.click("#import-submit")


def open_editor(page: Page, origin: str) -> int:
    """Wait for the editor of the draft just imported: its id."""
    page.wait_for_url(re.compile(rf"{re.escape(origin)}/plans/\d+/edit$"))
    page.wait_for_selector("body[data-ready=true]")
    return int(page.url.rsplit("/", 2)[1])


def listed(page: Page, repairs: list[dict[str, Any]]) -> None:
    """The repairs as lines: the kind in words, the grids, the area and the largest shift."""
    items = page.locator(".pe-repair-item")
    expect(items).to_have_count(len(repairs))
    for index, repair in enumerate(repairs):
        text = items.nth(index).inner_text()
        assert text.startswith(f"{REPAIR_NAMES[repair['kind']]} {'、'.join(repair['grids'])}")
        assert " m² · 最大位移 " in text and repair["message"] in text, text
        assert repair["kind"] not in text


def assert_clean(traffic: Traffic, origin: str, provoked: list[str]) -> None:
    """Nothing went out, nothing failed, and the only refusals were the provoked ones."""
    assert traffic.outside(origin) == []
    assert traffic.bad_responses == provoked
    assert traffic.failed == []
    # Chromium logs every answer >= 400 to the console: only the provoked ones may
    codes = {entry.split()[0] for entry in provoked}
    assert [e for e in traffic.errors
            if not any(f"status of {code}" in e for code in codes)] == []


def test_a_rounded_town_is_repaired_in_the_editor_and_undone(
        live_server: str, db_session: Session, tmp_path: Path) -> None:
    auth_service.add_account(db_session, username="guihua", role="planner", password=PASSWORD)
    token = auth_service.issue_token(db_session, username="guihua")
    db_session.commit()
    path = write(tmp_path / "town-6.geojson", EXACT, 6)
    with (httpx.Client(base_url=live_server,
                       headers={"Authorization": f"Bearer {token}"}) as api,
          chromium_page() as (page, traffic)):
        sign_in_to_list(page, live_server)
        import_file(page, path, "六位小数的镇")
        plan_id = open_editor(page, live_server)
        plan_url = f"{live_server}/api/v1/plans/{plan_id}"
        before = api.get(f"/api/v1/plans/{plan_id}/validation").json()
        assert before["repairable"] == len(before["problems"]) == 4, before

        # the problems, and the offer to repair them within the default 0.5 m
        valid(page, False)
        expect(page.locator(".pe-problem-item")).to_have_count(4)
        expect(page.locator("#repairs")).to_be_hidden()
        expect(page.locator("#repair-run")).to_have_text("容差内修复（4 处问题可修复）")
        expect(page.locator("#repair-tolerance")).to_have_value("0.5")

        # a tolerance the service would refuse is refused in the page, in words
        page.fill("#repair-tolerance", "9")
        page.click("#repair-run")
        expect(page.locator(".pe-refused")).to_have_text("容差须大于 0 米且不超过 5 米")
        page.fill("#repair-tolerance", "0.5")

        with page.expect_response(f"{plan_url}/repair") as answer:
            page.click("#repair-run")
        repaired = answer.value.json()
        repairs = repaired["repairs"]
        assert repaired["tolerance_m"] == 0.5 and repairs
        assert {"snapped", "clipped_to_parent"} <= {r["kind"] for r in repairs}
        done(page, f"容差内修复完成：{len(repairs)} 项")
        expect(page.locator("#repairs-title")).to_have_text(
            f"已修复 {len(repairs)} 项（容差 0.5 米）")
        listed(page, repairs)
        valid(page, True)
        expect(page.locator(".pe-problem-item")).to_have_count(0)
        expect(page.locator("#repair-form")).to_be_hidden()
        expect(page.locator("#plan-version")).to_have_text("第 2 版")
        assert api.get(f"/api/v1/plans/{plan_id}/validation").json()["valid"] is True

        # a line leads to its place: the map centred on it, close up, a marker there
        index = next(i for i, r in enumerate(repairs) if r["kind"] == "clipped_to_parent")
        page.locator(".pe-repair-item").nth(index).click()
        expect(page.locator(".pe-repair-item.pe-focused")).to_have_attribute(
            "data-index", str(index))
        marker = page.locator("path.pe-repair-marker-clipped_to_parent")
        expect(marker).to_have_count(1)
        expect(marker).to_be_visible()
        assert page.evaluate(CENTRED) < 3
        zoom = page.evaluate("() => document.querySelector('.leaflet-control-scale-line')"
                             ".textContent")
        assert re.fullmatch(r"\d+ m", zoom) and int(zoom.split()[0]) <= 50, zoom
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "plan-repair.png"))

        # one edit in the log, and undo takes it back: the problems and the offer return
        page.click("#tab-log")
        expect(page.locator("#edit-log li[data-operation=repair]")).to_contain_text("容差内修复")
        page.click("#tab-validation")
        page.click("#tool-undo")
        done(page, "撤销完成")
        valid(page, False)
        expect(page.locator(".pe-problem-item")).to_have_count(4)
        expect(page.locator("#repairs")).to_be_hidden()
        expect(page.locator("path.pe-repair-marker")).to_have_count(0)
        expect(page.locator("#repair-run")).to_have_text("容差内修复（4 处问题可修复）")
        after = api.get(f"/api/v1/plans/{plan_id}/validation").json()
        assert [p["type"] for p in after["problems"]] == [p["type"] for p in before["problems"]]
        assert api.get(f"/api/v1/plans/{plan_id}/edits").json()[-1]["undone"] is True

        # someone else changes the plan: the repair meets the page's usual conflict
        current = api.get(f"/api/v1/plans/{plan_id}").json()["version"]
        renamed = api.patch(f"/api/v1/plans/{plan_id}", json={"note": "另一位规划员"},
                            headers={"If-Match": f'"{current}"'})
        assert renamed.status_code == 200, renamed.text
        page.click("#repair-run")
        expect(page.locator(".pe-conflict")).to_contain_text("方案已被他人修改")
        expect(page.locator("#plan-version")).to_have_text(f"第 {renamed.json()['version']} 版")
        valid(page, False)
        assert api.get(f"/api/v1/plans/{plan_id}").json()["version"] == renamed.json()["version"]

    assert_clean(traffic, live_server, [f"412 {plan_url}/repair"])


def test_a_file_with_folded_rings_is_imported_repaired(
        live_server: str, db_session: Session, tmp_path: Path) -> None:
    auth_service.add_account(db_session, username="guihua", role="planner", password=PASSWORD)
    token = auth_service.issue_token(db_session, username="guihua")
    db_session.commit()
    path = write(tmp_path / "town-5.geojson", rounded(EXACT, 5), 15)
    with (httpx.Client(base_url=live_server,
                       headers={"Authorization": f"Bearer {token}"}) as api,
          chromium_page() as (page, traffic)):
        sign_in_to_list(page, live_server)
        import_file(page, path, "五位小数的镇")
        # refused, why in words, and the way offered
        expect(page.locator("#import-refused")).to_be_visible()
        expect(page.locator("#import-error")).to_contain_text("导入失败：文件中有")
        expect(page.locator("#import-error")).to_contain_text("容差内修复")
        expect(page.locator("#import-problems .pe-problem-item").first).to_contain_text(
            "几何无效")
        expect(page.locator("#import-repair-run")).to_have_text("容差内修复后导入")
        assert api.get("/api/v1/plans").json() == []  # a refused file makes no plan

        page.fill("#import-tolerance", "1")
        page.click("#import-repair-run")
        plan_id = open_editor(page, live_server)
        (plan,) = api.get("/api/v1/plans").json()
        assert (plan["id"], plan["name"], plan["status"]) == (plan_id, "五位小数的镇", "draft")
        # the same file sent again repairs alike: the answer the page was given
        with path.open("rb") as handle:
            again = api.post("/api/v1/plans/import", data={"repair": "true", "tolerance_m": "1"},
                             files={"file": (path.name, handle.read())})
        assert again.status_code == 201, again.text
        made = again.json()
        assert "made_valid" in {r["kind"] for r in made["repairs"]}
        expect(page.locator("#plan-name")).to_have_text("五位小数的镇")
        expect(page.locator("#repairs-title")).to_have_text(
            f"导入时已修复 {len(made['repairs'])} 项（容差 1 米）")
        listed(page, made["repairs"])
        valid(page, True)
        expect(page.locator("#repair-form")).to_be_hidden()
        page.locator(".pe-repair-item[data-kind=made_valid]").first.click()
        expect(page.locator("path.pe-repair-marker-made_valid")).to_be_visible()
        # the list was handed over once: reloaded, the editor shows the plan alone
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        expect(page.locator("#repairs")).to_be_hidden()
        assert api.get(f"/api/v1/plans/{plan_id}/validation").json()["valid"] is True

    assert_clean(traffic, live_server, [f"422 {live_server}/api/v1/plans/import"])
