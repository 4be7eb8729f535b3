"""The printable report page: SVG charts and map, Chinese text, print CSS, no script and no
outside asset; the sign-in form first for a signed-out browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.reports.periods import last_full_week
from gis_service.timeutil import CHINA_TIME
from map_ui.report_page import svg_721, svg_bars, svg_line, svg_map
from tests.gis_service.reports.history import WEEK_DAY, at, make, week_of_incidents

Token = Callable[..., dict[str, str]]


@pytest.fixture()
def week(db_session: Session, town: dict[str, Path]) -> dict[str, Any]:
    return week_of_incidents(db_session)


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token}).status_code == 200


def only_local(page: str) -> None:
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_signed_out_the_report_sends_to_the_sign_in_form(client: TestClient) -> None:
    response = client.get("/reports/weekly?area=T&date=2026-03-04", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == ("/login?next=/reports/weekly"
                                            "%3Farea%3DT%26date%3D2026-03-04")
    monthly = client.get("/reports/monthly", follow_redirects=False)
    assert monthly.headers["location"] == "/login?next=/reports/monthly"


def test_the_weekly_page_has_charts_map_and_print_css(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    sign_in(client, auth)
    response = client.get("/reports/weekly", params={"area": "T", "date": WEEK_DAY})
    assert response.status_code == 200
    page = response.text
    only_local(page)
    assert "七都镇(测试)（T） 周研判报告" in page and "2026-03-02 至 2026-03-08" in page
    for chart in ("chart bars", "chart line", "chart stacked", 'class="map"'):
        assert chart in page
    assert page.count('class="grid"') == 4 and page.count('class="repeat"') == 1
    assert "12345热线" in page and "垃圾堆放" in page and "西村一组" in page
    assert "@page { size: A4" in page and "page-break" in page
    assert "早期预警" in page


def test_the_monthly_page_and_a_grid_workers_view(
        client: TestClient, week: dict[str, Any], token_for: Token) -> None:
    sign_in(client, token_for("grid_worker", "T-A-1"))
    page = client.get("/reports/monthly", params={"area": "T-A", "month": "2026-03"}).text
    only_local(page)
    assert "西村（T-A） 月分析报告" in page and "2026-03-01 至 2026-03-31" in page
    assert "早期预警" not in page
    assert page.count('class="grid"') == 2  # the level-2 grid's two level-3 grids
    assert client.get("/reports/monthly", params={"area": "NOPE"}).status_code == 404


def test_without_an_area_the_title_is_the_town_and_times_are_china_time(
        client: TestClient, week: dict[str, Any], token_for: Token) -> None:
    sign_in(client, token_for("dispatcher", "T"))
    page = client.get("/reports/weekly", params={"date": WEEK_DAY}).text
    assert "<h1>七都镇(测试) 周研判报告</h1>" in page and "全部可见范围" not in page
    generated = re.search(r"生成于 (\d{4}-\d\d-\d\d \d\d:\d\d)（北京时间）", page)
    assert generated is not None and "UTC" not in page
    shown = datetime.strptime(generated.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=CHINA_TIME)
    assert abs(shown - datetime.now(UTC)) < timedelta(minutes=2)
    assert '<a href="/reports/weekly?date=2026-02-23">上一周</a>' in page
    assert '<a href="/reports/weekly?date=2026-03-09">下一周</a>' in page
    assert "上期：2026-02-23 至 2026-03-01。" in page


def test_the_weekly_page_opens_on_the_last_full_week(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    sign_in(client, auth)
    page = client.get("/reports/weekly").text
    monday, following = last_full_week(datetime.now(CHINA_TIME).date())
    sunday = following - timedelta(days=1)
    assert f"统计周期：{monday.date()} 至 {sunday.date()}（北京时间）" in page
    assert "截至生成时" not in page


def test_this_month_is_to_date_and_compared_with_the_same_days_before(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    sign_in(client, auth)
    page = client.get("/reports/monthly").text
    today = datetime.now(CHINA_TIME).date()
    assert f"统计周期：{today.replace(day=1)} 至 {today}" in page
    assert "（北京时间，截至生成时）" in page
    assert "（上期同一时段，与本期至今对比）" in page
    assert ">下月<" not in page and ">上月<" in page


def test_an_uncategorised_incident_is_named_so(
        client: TestClient, week: dict[str, Any], auth: dict[str, str],
        db_session: Session) -> None:
    make(db_session, reported=at(5, 11), grid3="T-B-1", lon=120.416, lat=30.906,
         category=None, steps=[("dispatch", at(5, 12))])
    db_session.commit()
    sign_in(client, auth)
    page = client.get("/reports/weekly", params={"date": WEEK_DAY}).text
    assert "未分类" in page and "unknown" not in page


def test_the_svg_builders_escape_and_cope_with_nothing() -> None:
    assert "&lt;b&gt;" in svg_bars([("<b>", 3)]) and "无数据" in svg_bars([])
    assert "<polyline" in svg_line([("2026-03-01", 1), ("2026-03-02", 4)])
    assert "本期无结案" in svg_721({"service": 0, "management": 0, "enforcement": 0})
    assert "无三级网格" in svg_map([], [])
