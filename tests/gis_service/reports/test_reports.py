"""Reports checked against hand-made incidents with known histories (tests/…/history.py):

    A hotline  GARBAGE  T-A-1  Mon 09:00  all steps on time, closed Mon 21:00 (12 h), 服务, ★5
    B patrol   GARBAGE  T-A-1  Tue 09:00  accepted, resolved, closed late (24 h), 管理, ★3
    C hotline  BUILDING T-B-2  Wed 10:00  returned once, escalated, late, closed Fri 22:00 (60 h)
    D video    GARBAGE  T-A-1  Sat 08:00  dispatched only; its deadlines passed before Monday
    E hotline  GARBAGE  T-A-2  last week, closed Mon 10:00 (96 h, late), 服务
    F walk-in  GARBAGE  T-B-1  Thu 09:00  dispatched, no deadlines
A, B and D are within ~15 m of each other: one repeat location.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.config import Settings
from gis_service.hotspots.service import thresholds_from
from gis_service.reports.periods import last_full_week, month_of, parse_month, previous, week_of
from gis_service.reports.service import monthly_report, weekly_report
from tests.gis_service.reports.history import WEEK_DAY, at, make, week_of_incidents

Token = Callable[..., dict[str, str]]


@pytest.fixture()
def week(db_session: Session, town: dict[str, Path]) -> dict[str, Any]:
    return week_of_incidents(db_session)


def weekly(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/reports/weekly", headers=headers,
                          params={"date": WEEK_DAY, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_periods_are_china_weeks_and_calendar_months() -> None:
    from datetime import date

    assert week_of(date(2026, 3, 8)) == (at(2, 0), at(9, 0))
    assert week_of(date(2026, 3, 2)) == (at(2, 0), at(9, 0))
    assert month_of(parse_month("2026-02")) == (at(1, 0, month=2), at(1, 0))
    assert previous(at(1, 0), at(1, 0, month=4)) == (at(1, 0, month=2), at(1, 0))
    assert previous(at(2, 0), at(9, 0)) == (at(23, 0, month=2), at(2, 0))


def test_intake_flow_and_busiest_grids(client: TestClient, week: dict[str, Any],
                                       auth: dict[str, str]) -> None:
    report = weekly(client, auth)
    assert report["kind"] == "weekly" and report["period"]["days"] == 7
    intake = report["intake"]
    assert intake["total"] == 5
    assert {r["code"]: r["count"] for r in intake["by_channel"]} == {
        "hotline_12345": 2, "grid_patrol": 1, "video": 1, "walk_in": 1}
    assert intake["by_category"][0] == {"code": "GARBAGE", "count": 4, "name": "垃圾堆放"}
    assert [d["count"] for d in intake["daily"]] == [1, 1, 1, 1, 0, 1, 0]
    assert report["flow"] == {"open_at_start": 1, "opened": 5, "closed": 4, "open_at_end": 2}
    assert report["top_grids"][0] == {"code": "T-A-1", "name": "西村一组", "count": 3}


def test_on_time_per_step_counts_overdue_pending_steps_as_late(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    steps = weekly(client, auth)["on_time"]
    assert steps["dispatch"] == {"on_time": 5, "late": 0, "rate": 1.0}
    assert steps["accept"] == {"on_time": 1, "late": 3, "rate": 0.25}
    assert steps["resolve"] == {"on_time": 1, "late": 3, "rate": 0.25}
    assert steps["close"] == {"on_time": 1, "late": 3, "rate": 0.25}


def test_closures_handling_time_721_and_satisfaction(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    report = weekly(client, auth)
    closures = report["closures"]
    assert closures["closed"] == 4 and closures["on_time"] == 1
    assert closures["on_time_rate"] == 0.25
    assert closures["handling_hours"] == {"median": 42.0, "p90": 85.2}
    assert report["ratio_721"]["counts"] == {"service": 2, "management": 1, "enforcement": 1}
    assert report["ratio_721"]["ratio"] == [5.0, 2.5, 2.5]
    satisfaction = report["satisfaction"]
    assert satisfaction["rated"] == 2 and satisfaction["mean"] == 4.0
    assert satisfaction["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}


def test_returns_escalations_and_repeat_locations(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    report = weekly(client, auth)
    assert report["returns"]["returns"] == 1 and report["returns"]["escalations"] == 1
    assert report["returns"]["top_returned_categories"] == [
        {"code": "BUILDING", "count": 1, "name": "违章搭建"}]
    repeats = report["repeat_locations"]
    assert len(repeats) == 1
    assert repeats[0]["count"] == 3 and repeats[0]["kind"] == "point"
    assert repeats[0]["grid3"] == "T-A-1" and repeats[0]["spread_m"] <= 20
    assert abs(repeats[0]["lon"] - 120.40502) < 0.0001


def test_the_previous_week_is_compared(client: TestClient, week: dict[str, Any],
                                       auth: dict[str, str]) -> None:
    comparison = weekly(client, auth)["comparison"]
    assert comparison["intake"] == {"value": 5, "previous": 1, "delta": 4}
    assert comparison["closed"] == {"value": 4, "previous": 0, "delta": 4}
    assert comparison["handling_median_hours"]["previous"] is None
    assert comparison["open_at_end"] == {"value": 2, "previous": 1, "delta": 1}


def test_area_filters_grids_of_every_level_and_districts(
        client: TestClient, week: dict[str, Any], auth: dict[str, str]) -> None:
    def total(area: str) -> int:
        return int(weekly(client, auth, area=area)["intake"]["total"])

    assert (total("T"), total("T-B"), total("T-A-1"), total("D2"), total("D1")) == (5, 2, 3, 1, 4)
    named = weekly(client, auth, area="D2")["area"]
    assert named == {"code": "D2", "name": "北片区", "kind": "district", "level": None}
    missing = client.get("/api/v1/reports/weekly", headers=auth,
                         params={"date": WEEK_DAY, "area": "NOPE"})
    assert missing.status_code == 404


def test_a_grid_worker_reports_only_on_what_they_may_see(
        client: TestClient, week: dict[str, Any], token_for: Token) -> None:
    report = weekly(client, token_for("grid_worker", "T-A-1"))
    assert report["intake"]["total"] == 3 and report["flow"]["closed"] == 2
    assert report["ratio_721"]["counts"] == {"service": 1, "management": 1, "enforcement": 0}
    elsewhere = weekly(client, token_for("grid_worker", "T-A-1"), area="T-B")
    assert elsewhere["intake"]["total"] == 0
    assert client.get("/api/v1/reports/weekly").status_code == 401


def test_any_period_and_monthly(client: TestClient, week: dict[str, Any],
                                auth: dict[str, str]) -> None:
    response = client.get("/api/v1/reports", headers=auth,
                          params={"start": "2026-03-02T00:00:00", "end": "2026-03-04T00:00:00"})
    assert response.status_code == 200
    assert response.json()["intake"]["total"] == 2
    month = client.get("/api/v1/reports/monthly", headers=auth, params={"month": "2026-03"})
    assert month.status_code == 200 and month.json()["kind"] == "monthly"
    assert month.json()["intake"]["total"] == 5 and len(month.json()["intake"]["daily"]) == 31
    assert month.json()["comparison"]["intake"]["previous"] == 1
    bad = client.get("/api/v1/reports/monthly", headers=auth, params={"month": "2026-13"})
    backwards = client.get("/api/v1/reports", headers=auth,
                           params={"start": "2026-03-04", "end": "2026-03-02"})
    assert bad.status_code == backwards.status_code == 422


def test_csv_is_one_flat_table(client: TestClient, week: dict[str, Any],
                               auth: dict[str, str]) -> None:
    response = client.get("/api/v1/reports/weekly", headers=auth,
                          params={"date": WEEK_DAY, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert list(rows[0]) == ["section", "key", "name", "metric", "value"]
    figures = {(r["section"], r["key"], r["metric"]): r["value"] for r in rows}
    assert figures[("intake", "", "total")] == "5"
    assert figures[("period", "T", "start")] == "2026-03-02T00:00:00+08:00"
    assert figures[("period", "T", "until")] == "2026-03-09T00:00:00+08:00"
    assert {r["name"] for r in rows if r["section"] == "period"} == {"七都镇(测试)"}
    assert figures[("intake_channel", "hotline_12345", "count")] == "2"
    assert figures[("on_time", "accept", "rate")] == "0.25"
    assert figures[("closures", "", "handling_median_hours")] == "42.0"
    assert figures[("ratio_721", "service", "tenths")] == "5.0"
    assert figures[("repeat_location", "1", "count")] == "3"
    assert figures[("comparison", "intake", "delta")] == "4"


def test_the_weekly_report_takes_the_thresholds_it_is_given(
        db_session: Session, week: dict[str, Any]) -> None:
    # the app's settings, not the process environment: floors no week reaches flag nothing
    usual = weekly_report(db_session, principal=None, area=None, now=at(11, 15),
                          thresholds=thresholds_from(Settings()))
    assert usual["early_warnings"]["warnings"]  # three reports at one address
    strict = Settings(hotspot_repeat_address=10_000, hotspot_min_count=10_000,
                      hotspot_new_cluster_min=10_000)
    report = weekly_report(db_session, principal=None, area=None, now=at(11, 15),
                           thresholds=thresholds_from(strict))
    assert report["early_warnings"] == {"available": True, "warnings": []}


def test_an_incident_that_ever_missed_its_deadline_is_not_closed_on_time(
        client: TestClient, week: dict[str, Any], auth: dict[str, str],
        db_session: Session) -> None:
    # A was resolved and closed well within its deadline; had it been handed up overdue
    # before (a fresh deadline given), it would still be late
    week["A"].overdue_since = at(2, 10)
    db_session.commit()
    report = weekly(client, auth)
    assert report["closures"]["closed"] == 4 and report["closures"]["on_time"] == 0
    assert report["on_time"]["resolve"] == {"on_time": 0, "late": 4, "rate": 0.0}
    assert report["on_time"]["close"] == {"on_time": 0, "late": 4, "rate": 0.0}
    assert report["on_time"]["accept"] == {"on_time": 1, "late": 3, "rate": 0.25}  # unchanged
    assert report["comparison"]["close_on_time_rate"]["value"] == 0.0


def test_an_open_incident_whose_deadline_was_missed_counts_late_before_its_new_one(
        client: TestClient, week: dict[str, Any], auth: dict[str, str],
        db_session: Session) -> None:
    # F has no deadline; say it missed one on Friday and was given another after the week
    week["F"].overdue_since, week["F"].due_at = at(6, 9), at(20, 9)
    db_session.commit()
    steps = weekly(client, auth)["on_time"]
    assert steps["resolve"]["late"] == 4 and steps["close"]["late"] == 4


def test_month_to_date_is_compared_with_the_same_days_of_the_month_before(
        db_session: Session, week: dict[str, Any]) -> None:
    # on 4 March at noon: 1–4 March 12:00 against 1–4 February 12:00, not all of February
    report = monthly_report(db_session, principal=None, area=None,
                            month=parse_month("2026-03"), now=at(4, 12))
    assert report["period"]["to_date"] is True
    assert report["period"]["until"] == "2026-03-04T12:00:00+08:00"
    assert report["previous_period"] == {"start": "2026-02-01T00:00:00+08:00",
                                         "end": "2026-02-04T12:00:00+08:00"}
    assert report["intake"]["total"] == 3  # A, B, C (D and F come later)
    assert len(report["intake"]["daily"]) == 4
    assert report["comparison"]["intake"] == {"value": 3, "previous": 0, "delta": 3}
    # at the month's end the month before is compared whole (February has 28 days)
    late = monthly_report(db_session, principal=None, area=None,
                          month=parse_month("2026-03"), now=at(31, 12))
    assert late["previous_period"]["end"] == "2026-03-01T00:00:00+08:00"
    assert late["comparison"]["intake"]["previous"] == 1  # E, 26 February
    assert late["comparison"]["open_at_end"]["previous"] == 1  # E was open on 1 March
    # a month that is over is compared with the whole month before
    done = monthly_report(db_session, principal=None, area=None,
                          month=parse_month("2026-03"), now=at(2, 0, month=5))
    assert done["period"]["to_date"] is False and len(done["intake"]["daily"]) == 31


def test_the_weekly_report_opens_on_the_last_full_week(
        db_session: Session, week: dict[str, Any]) -> None:
    # on Wednesday 11 March the last full week is 2–8 March, not the two days of this one
    report = weekly_report(db_session, principal=None, area=None, now=at(11, 15),
                           thresholds=thresholds_from(Settings()))
    assert (report["period"]["start"], report["period"]["end"]) == (
        "2026-03-02T00:00:00+08:00", "2026-03-09T00:00:00+08:00")
    assert report["period"]["to_date"] is False and report["intake"]["total"] == 5
    assert last_full_week(at(9, 0).date()) == week_of(at(2, 0).date())
    assert last_full_week(at(8, 23).date()) == week_of(at(23, 0, month=2).date())


def test_times_are_china_time_and_the_title_names_the_area(
        client: TestClient, week: dict[str, Any], auth: dict[str, str],
        token_for: Token, db_session: Session) -> None:
    report = weekly(client, auth)
    assert report["generated_at"].endswith("+08:00")
    assert report["period"]["start"] == "2026-03-02T00:00:00+08:00"
    # one town: the unscoped center reports on it by name
    assert report["covers"] == {"code": "T", "name": "七都镇(测试)", "kind": "grid"}
    assert weekly(client, token_for("dispatcher", "T"))["covers"]["name"] == "七都镇(测试)"
    assert weekly(client, token_for("grid_worker", "T-A-1"))["covers"] == {
        "code": "T-A-1", "name": "西村一组", "kind": "grid"}
    assert weekly(client, token_for("squad", "D2"))["covers"]["name"] == "北片区"
    assert weekly(client, token_for("department", "JS"))["covers"] == {
        "code": "JS", "name": "建设局", "kind": "department"}
    assert weekly(client, auth, area="T-B")["covers"] == {
        "code": "T-B", "name": "东村", "kind": "grid"}


def test_an_incident_without_a_category_is_named_uncategorised(
        client: TestClient, week: dict[str, Any], auth: dict[str, str],
        db_session: Session) -> None:
    make(db_session, reported=at(5, 11), grid3="T-B-1", lon=120.416, lat=30.906,
         category=None, steps=[("dispatch", at(5, 12)), ("return", at(5, 13))])
    db_session.commit()
    report = weekly(client, auth)
    categories = {r["code"]: r for r in report["intake"]["by_category"]}
    assert categories[None] == {"code": None, "count": 1, "name": "未分类"}
    assert categories["GARBAGE"]["name"] == "垃圾堆放"
    returned = {r["code"]: r["name"] for r in report["returns"]["top_returned_categories"]}
    assert returned == {"BUILDING": "违章搭建", None: "未分类"}
    assert "unknown" not in json.dumps(report, ensure_ascii=False)
