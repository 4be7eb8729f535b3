"""The county tier: departments and duties of both tiers routed by the row that applies in
each town, centers scoped to a town or to the county, tickets handed up to the county center's
queue and sent down to a town, and a town returning a ticket that is not its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from gis_service.incidents.escalation import escalate_overdue
from gis_service.incidents.models import Incident
from tests.gis_service.imports.test_county_import import county_features
from tests.town import box, handler, write_csv, write_geojson, write_town

Headers = dict[str, str]
IN_T, IN_U = (120.402, 30.902), (120.43, 30.91)  # a point in each town
RESPONSIBILITY_COLUMNS = ["category_code", "category_name", "handler", "department_code",
                          "cooperating", "respond_hours", "resolve_hours", "town_code"]


def county_files(folder: Path) -> dict[str, Path]:
    """The test town and its neighbour U under the county C, with departments of both tiers
    and a responsibility list after Baoying's: county-wide rows, each town's own row for
    water pollution, a county department as primary for parking, and a matter the county
    center keeps."""
    files = write_town(folder)
    files["grids"] = write_geojson(folder / "county.geojson", county_features())
    files["departments"] = write_csv(folder / "departments.csv", ["code", "name", "tier",
                                                                  "town_code"], [
        ["JS", "七都建设办", "town", "T"], ["HB", "七都环保办", "town", "T"],
        ["UHB", "邻镇环保办", "town", "U"],
        ["CHB", "区生态环境局", "county", ""], ["CGA", "区公安分局七都派出所", "county", "T"],
        ["CJ", "区城管局", "county", ""]])
    files["workers"] = write_csv(folder / "workers.csv", [
        "code", "name", "role", "grid_code", "district_code", "department_code", "backup_code",
        "on_duty"], [["W1", "张三", "grid_worker", "T-A-1", "", "", "", "yes"],
                     ["WU1", "周九", "grid_worker", "U-A-1", "", "", "", "yes"]])
    files["responsibilities"] = write_csv(folder / "responsibilities.csv",
                                          RESPONSIBILITY_COLUMNS, [
        ["GARBAGE", "垃圾堆放", "grid", "", "", "2", "24", ""],
        ["POLLUTION", "水体污染", "department", "CHB", "", "1", "12", ""],
        ["POLLUTION", "水体污染", "department", "HB", "JS;CHB", "1", "8", "T"],
        ["POLLUTION", "水体污染", "department", "UHB", "CHB", "1", "10", "U"],
        ["PARKING", "违规停车", "department", "CGA", "CJ", "2", "24", ""],
        ["FLOOD", "防汛险情", "town", "", "", "0.5", "6", ""],
        ["LAND", "土地违法", "county", "", "CJ", "4", "72", ""]])
    return files


@pytest.fixture()
def county(db_session: Session, tmp_path: Path) -> dict[str, Path]:
    files = county_files(tmp_path)
    for kind in ("grids", "departments", "workers", "responsibilities"):
        report = run_import(db_session, kind, files[kind])
        assert report.accepted, report.lines()
    db_session.commit()
    return files


def _report(client: TestClient, auth: Headers, number: str, category: str,
            where: tuple[float, float]) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": number, "category": category,
        "description": "测试", "location": {"lon": where[0], "lat": where[1]}})
    assert response.status_code == 201, response.text
    return response.json()


def _act(client: TestClient, headers: Headers, incident: dict[str, Any], action: str,
         **body: Any) -> Any:
    return client.post(f"/api/v1/incidents/{incident['id']}/actions",
                       headers={**headers, "If-Match": f'"{incident["version"]}"'},
                       json={"action": action, **body})


def _dispatch_row(client: TestClient, auth: Headers, incident: dict[str, Any]) -> dict[str, Any]:
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    return next(h["detail"] for h in history if h["action"] == "dispatch")


def test_each_town_gets_the_handler_its_rows_name(client: TestClient, county: dict[str, Path],
                                                  auth: Headers) -> None:
    expected = {  # (category, town): handler, the row that decided
        ("POLLUTION", IN_T): (("department", "HB"), "T"),
        ("POLLUTION", IN_U): (("department", "UHB"), "U"),
        ("GARBAGE", IN_T): (("grid_worker", "W1"), "county-wide"),
        ("GARBAGE", IN_U): (("grid_worker", "WU1"), "county-wide"),
        ("PARKING", IN_U): (("department", "CGA"), "county-wide"),
        ("FLOOD", IN_U): (("town", "U"), "county-wide"),
        ("LAND", IN_T): (("county", "C"), "county-wide"),
    }
    for number, ((category, where), (assignee, duty)) in enumerate(expected.items()):
        incident = _report(client, auth, f"K{number}", category, where)
        assert handler(incident) == assignee, (category, where)
        detail = _dispatch_row(client, auth, incident)
        assert (detail["rule"], detail["duty"]) == (category, duty)
    pollution_in_t = _report(client, auth, "K-T2", "POLLUTION", IN_T)
    assert pollution_in_t["cooperating"] == ["CHB", "JS"]  # T's own row's co-handlers
    land = _report(client, auth, "K-L2", "LAND", IN_U)
    assert land["assignee"]["name"] == "吴江区(测试)指挥中心"


@pytest.mark.parametrize("row, words", [
    # a county-wide row naming one town's department would send every town's matters to it
    (["POLLUTION", "水体污染", "department", "HB", "", "1", "12", ""],
     ["HB", "belongs to town T", "county-wide"]),
    (["POLLUTION", "水体污染", "department", "UHB", "", "1", "12", "T"],
     ["UHB", "belongs to town U", "town T's row"]),
    (["GARBAGE", "垃圾堆放", "grid", "", "", "2", "24", "NOWHERE"], ["NOWHERE", "not a town"]),
    (["GARBAGE", "垃圾堆放", "grid", "", "", "2", "24", "C"], ["town_code C", "not a town"]),
])
def test_a_row_naming_another_towns_department_or_no_town_is_refused(
        db_session: Session, county: dict[str, Path], tmp_path: Path, row: list[str],
        words: list[str]) -> None:
    path = write_csv(tmp_path / "bad.csv", RESPONSIBILITY_COLUMNS, [row])
    report = run_import(db_session, "responsibilities", path)
    assert not report.accepted
    message = " ".join(report.lines())
    assert all(word in message for word in words), message


def test_departments_name_a_known_tier_and_town(db_session: Session, county: dict[str, Path],
                                                tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", ["code", "name", "tier", "town_code"],
                     [["X1", "某局", "province", ""], ["X2", "某办", "town", "NOWHERE"]])
    report = run_import(db_session, "departments", path)
    message = " ".join(report.lines())
    assert not report.accepted
    assert "tier 'province'" in message and "town_code NOWHERE" in message


def test_a_town_center_sees_its_town_and_the_county_center_every_town(
        client: TestClient, county: dict[str, Path], auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    in_t = _report(client, auth, "S1", "FLOOD", IN_T)
    in_u = _report(client, auth, "S2", "FLOOD", IN_U)
    town_u, county_c = token_for("dispatcher", "U"), token_for("dispatcher", "C")
    commander_t = token_for("commander", "T")

    def listed(headers: Headers) -> set[int]:
        page = client.get("/api/v1/incidents", headers=headers, params={"limit": 100})
        return {item["id"] for item in page.json()["items"]}

    assert listed(town_u) == {in_u["id"]}
    assert listed(commander_t) == {in_t["id"]}
    assert listed(county_c) == {in_t["id"], in_u["id"]}
    assert client.get(f"/api/v1/incidents/{in_t['id']}", headers=town_u).status_code == 404
    refused = _act(client, town_u, in_t, "accept")
    assert refused.status_code == 404
    mine = client.get("/api/v1/incidents", headers=town_u, params={"assignee": "me"}).json()
    assert [item["id"] for item in mine["items"]] == [in_u["id"]]


def test_up_to_the_county_down_to_a_town_and_back(
        client: TestClient, county: dict[str, Path], auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    town_t, county_c = token_for("dispatcher", "T"), token_for("dispatcher", "C")
    incident = _report(client, auth, "E1", "GARBAGE", IN_T)
    assert handler(incident) == ("grid_worker", "W1")

    up = _act(client, town_t, incident, "escalate", note="组里处理不了")
    assert up.status_code == 200 and handler(up.json()) == ("town", "T")
    held_by_town = up.json()
    up = _act(client, town_t, held_by_town, "escalate", note="镇里也处理不了")
    assert up.status_code == 200, up.text
    at_county = up.json()
    assert handler(at_county) == ("county", "C") and at_county["escalation_level"] == 2
    due = datetime.fromisoformat(at_county["due_at"])
    assert due > datetime.now(UTC) + timedelta(hours=23)  # a fresh deadline: the rule's 24 h
    queue = client.get("/api/v1/incidents", headers=county_c, params={"assignee": "me"})
    assert [item["id"] for item in queue.json()["items"]] == [incident["id"]]
    # the town sees the ticket in its town but cannot act on what the county holds
    assert _act(client, town_t, at_county, "accept").status_code == 403

    # the county sends it down (下派) to the town it lies in, not to another town
    not_there = _act(client, county_c, at_county, "dispatch", to="town:U")
    assert not_there.status_code == 422 and "U" in not_there.json()["detail"]
    unknown = _act(client, county_c, at_county, "dispatch", to="department:NOPE")
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["detail"]
    foreign = _act(client, county_c, at_county, "dispatch", to="department:UHB")
    assert foreign.status_code == 422 and "UHB" in foreign.json()["detail"]  # U's, not T's
    down = _act(client, county_c, at_county, "dispatch", to="town:T")
    assert down.status_code == 200 and handler(down.json()) == ("town", "T")
    town_queue = client.get("/api/v1/incidents", headers=town_t, params={"assignee": "me"})
    assert [item["id"] for item in town_queue.json()["items"]] == [incident["id"]]

    # the town returns it ("not ours"): back to the county center, which dispatches again
    back = _act(client, town_t, down.json(), "return", note="不属于本镇事权")
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "returned" and handler(back.json()) == ("county", "C")
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert history[-1]["detail"]["returned_by"] == {"type": "town", "code": "T"}
    def queues(headers: Headers) -> dict[str, int]:
        counts = client.get("/api/v1/incidents/queues", headers=headers).json()
        return {k: counts[k] for k in ("center", "escalated", "returned")}

    # the returned ticket waits in the county's queue, not the town's
    assert queues(county_c) == {"center": 0, "escalated": 1, "returned": 1}
    assert queues(town_t) == {"center": 0, "escalated": 0, "returned": 0}
    listed = client.get("/api/v1/incidents", headers=county_c, params={"queue": "returned"})
    assert [item["id"] for item in listed.json()["items"]] == [incident["id"]]
    again = _act(client, county_c, back.json(), "dispatch", to="department:CJ")
    assert again.status_code == 200 and handler(again.json()) == ("department", "CJ")


def test_the_scheduler_hands_an_overdue_town_ticket_to_the_county(
        client: TestClient, county: dict[str, Path], auth: Headers,
        db_session: Session) -> None:
    incident = _report(client, auth, "O1", "FLOOD", IN_U)
    assert handler(incident) == ("town", "U")
    now = datetime.now(UTC)
    db_session.execute(update(Incident).where(Incident.id == incident["id"])
                       .values(due_at=now - timedelta(hours=1)))
    assert escalate_overdue(db_session, now) == [incident["id"]]
    db_session.commit()
    after = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()
    assert handler(after) == ("county", "C")
    assert datetime.fromisoformat(after["due_at"]) == now + timedelta(hours=6)  # FLOOD's


def test_a_town_center_reassigns_what_it_holds_and_leaves_the_countys_alone(
        client: TestClient, county: dict[str, Path], auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    town_t = token_for("dispatcher", "T")
    flood = _report(client, auth, "R1", "FLOOD", IN_T)
    moved = _act(client, town_t, flood, "dispatch", to="grid_worker:W1", note="改派")
    assert moved.status_code == 200 and handler(moved.json()) == ("grid_worker", "W1")
    land = _report(client, auth, "R2", "LAND", IN_T)  # a matter the county center keeps
    refused = _act(client, town_t, land, "dispatch", to="grid_worker:W1")
    assert refused.status_code == 403 and "县指挥中心" in refused.json()["detail"]


def test_a_town_center_assesses_its_own_grid_workers(
        client: TestClient, county: dict[str, Path],
        token_for: Callable[[str, str | None], Headers]) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")

    def assessed(headers: Headers) -> set[str]:
        answer = client.get("/api/v1/assessment", headers=headers, params={"month": month})
        assert answer.status_code == 200, answer.text
        return {row["worker_code"] for row in answer.json()["workers"]}

    assert assessed(token_for("dispatcher", "T")) == {"W1"}
    assert assessed(token_for("commander", "U")) == {"WU1"}
    assert assessed(token_for("dispatcher", "C")) == {"W1", "WU1"}


def test_what_the_county_holds_is_never_handed_down_by_escalation(
        client: TestClient, county: dict[str, Path], auth: Headers,
        db_session: Session) -> None:
    land = _report(client, auth, "H1", "LAND", IN_T)
    assert handler(land) == ("county", "C")
    now = datetime.now(UTC)
    db_session.execute(update(Incident).where(Incident.id == land["id"])
                       .values(due_at=now - timedelta(hours=1)))
    assert escalate_overdue(db_session, now) == []  # nowhere higher: it stays overdue
    db_session.commit()
    after = client.get(f"/api/v1/incidents/{land['id']}", headers=auth).json()
    assert handler(after) == ("county", "C") and after["deadline_state"] == "red"


def test_suggestions_leave_out_other_towns_departments(
        client: TestClient, county: dict[str, Path], auth: Headers) -> None:
    incident = _report(client, auth, "G1", "UFO", IN_U)  # no rule: every kind is offered
    answer = client.get(f"/api/v1/incidents/{incident['id']}/suggestions", headers=auth,
                        params={"limit": 50})
    offered = {item["to"] for item in answer.json()["suggestions"]}
    assert {"department:UHB", "department:CJ", "town:U"} <= offered
    assert not offered & {"department:HB", "department:JS", "town:T"}


def test_a_zone_rule_joins_a_town_department_to_its_own_town_only(
        client: TestClient, county: dict[str, Path], auth: Headers, db_session: Session,
        tmp_path: Path) -> None:
    zones = write_geojson(tmp_path / "zones.geojson", [
        {"type": "Feature", "geometry": box(120.38, 30.88, 120.44, 30.93),
         "properties": {"code": "Z1", "name": "太湖一级保护区", "level": 1}}])
    rules = write_csv(tmp_path / "zone_rules.csv", [
        "code", "zone_level", "in_project", "categories", "priority", "deadline_factor",
        "cooperating"], [["TAIHU-1", "1", "no", "GARBAGE", "1", "0.5", "HB;CHB"]])
    for kind, path in (("zones", zones), ("zone_rules", rules)):
        assert run_import(db_session, kind, path).accepted
    db_session.commit()
    in_t = _report(client, auth, "Z-T", "GARBAGE", IN_T)
    in_u = _report(client, auth, "Z-U", "GARBAGE", IN_U)
    assert in_t["cooperating"] == ["CHB", "HB"]
    assert in_u["cooperating"] == ["CHB"]  # 七都's 环保办 is not U's


def test_a_center_sees_its_own_towns_grid_workers_on_the_map(
        client: TestClient, county: dict[str, Path],
        token_for: Callable[[str, str | None], Headers]) -> None:
    for grid, (lon, lat) in (("T-A-1", IN_T), ("U-A-1", IN_U)):
        ping = client.post("/api/v1/patrols/ping", headers=token_for("grid_worker", grid),
                           json={"lon": lon, "lat": lat})
        assert ping.status_code == 200, ping.text

    def seen(headers: Headers, **params: str) -> set[str]:
        answer = client.get("/api/v1/patrols/positions", headers=headers, params=params)
        return {f["properties"]["worker_code"] for f in answer.json()["features"]}

    assert seen(token_for("dispatcher", "T")) == {"W1"}
    assert seen(token_for("dispatcher", "C")) == {"W1", "WU1"}
    assert seen(token_for("dispatcher", "C"), town="U") == {"WU1"}
