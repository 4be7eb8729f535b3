"""Assessing the county police stationed in a town, in a real browser: the town's commander
opens 派驻人员考核 from the assessment page and rates the month, then the county's commander
rates it for the department, and the total comes to the town's share and the rest."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import
from tests.gis_service.incidents.test_county_tier import IN_T, county_files
from tests.map_ui.browser import ARTIFACTS, chromium_page, sign_in
from tests.town import write_csv

PASSWORD = "Stationed-officers-rated-9"
WORKERS = ["code", "name", "role", "grid_code", "district_code", "department_code",
           "backup_code", "on_duty"]


def test_the_town_and_the_county_rate_a_stationed_officer_in_the_pages(
        live_server: str, db_session: Session, tmp_path: Path, admin_token: str) -> None:
    files = county_files(tmp_path)
    files["workers"] = write_csv(tmp_path / "staff.csv", WORKERS, [
        ["W1", "张三", "grid_worker", "T-A-1", "", "", "", "yes"],
        ["S1", "钱警官", "department_staff", "", "", "CGA", "", "yes"]])
    for kind in ("grids", "departments", "workers", "responsibilities"):
        assert run_import(db_session, kind, files[kind]).accepted
    for name, scope in (("qidu_commander", "T"), ("county_commander", "C")):
        auth_service.add_account(db_session, username=name, role="commander",
                                 scope_code=scope, password=PASSWORD)
    db_session.commit()
    api = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {admin_token}"})
    parked = api.post("/api/v1/incidents", json={
        "source": "hotline_12345", "external_id": "P1", "category": "PARKING",
        "description": "桥头车辆乱停", "location": {"lon": IN_T[0], "lat": IN_T[1]}})
    assert parked.status_code == 201 and parked.json()["assignee"]["code"] == "CGA"

    with chromium_page() as (page, traffic):
        sign_in(page, live_server, "qidu_commander", PASSWORD)
        page.goto(f"{live_server}/assessment")
        page.click("text=派驻人员考核")
        row = page.locator("#stationed tr[data-worker=S1]")
        expect(row.locator("td").nth(3)).to_have_text("1")  # handed to the police in T
        expect(row.locator("td[data-party=county]")).to_have_text("未评")
        expect(row.locator("td[data-party=county] form")).to_have_count(0)  # not the town's
        form = row.locator("form[data-party=town]")
        form.locator("input[name=score]").fill("90")
        form.locator("input[name=note]").fill("配合镇里整治及时")
        form.locator("button").click()
        expect(page.locator("#status")).to_contain_text("已保存：钱警官 镇评分 90 分")
        expect(row.locator("td.total")).to_have_text("45")
        expect(row.locator("td[data-party=town] .shown")).to_contain_text("配合镇里整治及时")
        assert traffic.errors == [] and traffic.bad_responses == []

    with chromium_page() as (page, traffic):
        sign_in(page, live_server, "county_commander", PASSWORD)
        page.goto(f"{live_server}/assessment/stationed")
        row = page.locator("#stationed tr[data-worker=S1]")
        expect(row.locator("td[data-party=town]")).to_contain_text("90 分 → 45")
        expect(row.locator("td[data-party=town] form")).to_have_count(0)
        form = row.locator("form[data-party=county]")
        form.locator("input[name=score]").fill("80")
        form.locator("button").click()
        expect(row.locator("td.total")).to_have_text("85")
        page.reload()  # stored, not only drawn
        expect(page.locator("#stationed tr[data-worker=S1] td.total")).to_have_text("85")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "stationed.png"))
        assert traffic.errors == [] and traffic.bad_responses == []
        assert traffic.outside(live_server) == []
