"""The wall's data: the live feed, the KPI panel, the heat layer, a day's replay, grid cards —
each counted as the caller may see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.timeutil import CHINA_TIME

Token = Callable[..., dict[str, str]]
IN_T_A_1 = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}
IN_T_B_2 = {"lon": 120.415, "lat": 30.915, "crs": "wgs84"}


def report(client: TestClient, auth: dict[str, str], where: dict[str, Any] = IN_T_A_1,
           source: str = "grid_patrol", category: str = "GARBAGE",
           reported_at: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"source": source, "category": category, "location": where}
    if reported_at is not None:
        body["reported_at"] = reported_at.isoformat()
    response = client.post("/api/v1/incidents", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(client: TestClient, headers: dict[str, str], incident: dict[str, Any], action: str,
        **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**headers, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, (action, response.text)
    return dict(response.json())


def close(client: TestClient, auth: dict[str, str], incident: dict[str, Any],
          resolution: str) -> dict[str, Any]:
    for action, extra in (("accept", {}), ("resolve", {}), ("verify", {}),
                          ("close", {"resolution": resolution})):
        incident = act(client, auth, incident, action, **extra)
    return incident


def get(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(f"/api/v1/wall/{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_feed_starts_with_open_incidents_then_sends_only_changes(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    first, second = report(client, auth), report(client, auth, IN_T_B_2)
    start = get(client, "feed", auth)
    assert start["reset"] and {i["id"] for i in start["incidents"]} == {first["id"],
                                                                       second["id"]}
    item = next(i for i in start["incidents"] if i["id"] == first["id"])
    assert item["deadline"] == "green" and item["open"] and item["grid3"] == "T-A-1"
    assert item["assignee"] == "grid_worker:W1" and item["due_at"] and item["yellow_at"]

    third = report(client, auth)
    closed = close(client, auth, first, "service")
    change = get(client, "feed", auth, after=start["cursor"])
    assert not change["reset"] and change["cursor"] > start["cursor"]
    by_id = {i["id"]: i for i in change["incidents"]}
    assert third["id"] in by_id and by_id[third["id"]]["open"]
    assert by_id[first["id"]]["status"] == closed["status"] == "closed"
    assert not by_id[first["id"]]["open"]

    quiet = get(client, "feed", auth, after=change["cursor"], seen_at=change["at"])
    # rows written just before the last poll are re-read (they may have committed after it)
    assert quiet["cursor"] == change["cursor"]
    assert {i["id"] for i in quiet["incidents"]} <= set(by_id) | {second["id"]}
    later = (datetime.fromisoformat(change["at"]) + timedelta(minutes=1)).isoformat()
    settled = get(client, "feed", auth, after=change["cursor"], seen_at=later)
    assert settled["incidents"] == [] and settled["cursor"] == change["cursor"]


def test_feed_is_scoped_to_the_callers_area(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    mine, other = report(client, auth), report(client, auth, IN_T_B_2)
    worker = token_for("grid_worker", "T-A-1")
    start = get(client, "feed", worker)
    assert [i["id"] for i in start["incidents"]] == [mine["id"]]
    act(client, auth, other, "accept")
    change = get(client, "feed", worker, after=start["cursor"])
    assert other["id"] not in {i["id"] for i in change["incidents"]}
    assert client.get("/api/v1/wall/feed").status_code == 401


def test_kpis_count_today_open_overdue_721_and_busiest_grids(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    now = datetime.now(UTC)
    yesterday = now.astimezone(CHINA_TIME).replace(hour=0, minute=0) - timedelta(hours=2)
    a = report(client, auth, source="hotline_12345")
    b = report(client, auth, source="hotline_12345")
    c = report(client, auth, IN_T_B_2, source="video")
    report(client, auth, IN_T_B_2, source="walk_in", reported_at=yesterday)
    late = report(client, auth)
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :id"), {"id": late["id"]})
    db_session.commit()
    close(client, auth, a, "service")
    close(client, auth, b, "management")
    close(client, auth, c, "service")

    kpi = get(client, "kpi", auth)
    assert kpi["today"]["by_source"] == {"hotline_12345": 2, "video": 1, "grid_patrol": 1}
    assert kpi["today"]["total"] == 4
    assert kpi["open"] == 2 and kpi["overdue"] == 1 and kpi["deadlines"]["red"] == 1
    month = kpi["month"]
    assert month["closed"] == 3 and month["on_time"] == 3 and month["on_time_rate"] == 1.0
    assert month["resolutions"] == {"service": 2, "management": 1, "enforcement": 0}
    assert month["ratio_721"] == [6.7, 3.3, 0.0]
    assert kpi["top_open_grids"][0] == {"code": "T-A-1", "name": "西村一组", "count": 1}
    assert {g["code"] for g in kpi["top_open_grids"]} == {"T-A-1", "T-B-2"}


def test_kpis_count_a_late_closure_as_late(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    incident = report(client, auth)
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 minute' "
                            "WHERE id = :id"), {"id": incident["id"]})
    db_session.commit()
    incident = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()
    close(client, auth, incident, "enforcement")
    month = get(client, "kpi", auth)["month"]
    assert month["closed"] == 1 and month["on_time"] == 0 and month["on_time_rate"] == 0.0
    assert month["ratio_721"] == [0.0, 0.0, 10.0]


def test_heat_counts_recent_reports_per_hexagon(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    now = datetime.now(UTC)
    for _ in range(3):
        report(client, auth)
    report(client, auth, IN_T_B_2)
    report(client, auth, IN_T_B_2, reported_at=now - timedelta(days=20))
    week = get(client, "heat", auth, days=7)
    counts = {f["properties"]["cell"]: f["properties"]["count"] for f in week["features"]}
    expected_cell = h3.latlng_to_cell(IN_T_A_1["lat"], IN_T_A_1["lon"], week["resolution"])
    assert counts[expected_cell] == 3 and week["total"] == 4 and week["max"] == 3
    assert get(client, "heat", auth, days=30)["total"] == 5
    assert get(client, "heat", token_for("grid_worker", "T-B-2"), days=30)["total"] == 2
    assert client.get("/api/v1/wall/heat", headers=auth, params={"days": 0}).status_code == 422


def test_replay_gives_each_incident_its_steps_through_the_day(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    incident = report(client, auth)
    act(client, auth, incident, "accept")
    day = datetime.now(UTC).astimezone(CHINA_TIME).date()
    replay = get(client, "replay", auth, day=day.isoformat())
    assert replay["end"] - replay["start"] == 86400
    (item,) = replay["incidents"]
    statuses = [status for _, status in item["steps"]]
    assert statuses[-1] == "accepted" and "dispatched" in statuses
    times = [at for at, _ in item["steps"]]
    assert times == sorted(times) and replay["start"] <= times[0] < replay["end"]
    assert get(client, "replay", auth, day="2020-01-01")["incidents"] == []
    assert client.get("/api/v1/wall/replay", headers=auth,
                      params={"day": "yesterday"}).status_code == 422


def test_grid_card_names_workers_open_items_and_month(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    open_one = report(client, auth)
    closed = close(client, auth, report(client, auth), "service")
    report(client, auth, IN_T_B_2)
    card = get(client, "grids/T-A-1", auth)
    assert card["name"] == "西村一组" and card["level"] == 3 and card["parent"] == "T-A"
    assert [w["code"] for w in card["workers"]] == ["W1"]
    assert card["workers"][0]["backup"] == "W2"
    assert card["open"] == 1 and [i["id"] for i in card["open_items"]] == [open_one["id"]]
    assert card["month"]["reported"] == 2 and card["month"]["closed"] == 1
    assert closed["status"] == "closed"
    village = get(client, "grids/T-A", auth)
    assert village["level"] == 2 and village["month"]["reported"] == 2
    missing = client.get("/api/v1/wall/grids/NOPE", headers=auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
