"""Handler suggestions for the dispatcher console, and the console's queue filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.people.models import Worker
from tests.gis_service.incidents.test_loop import act, new
from tests.town import handler

Token = Callable[..., dict[str, str]]
IN_T_B_1 = {"lon": 120.415, "lat": 30.905, "crs": "wgs84"}


def suggestions(client: TestClient, headers: dict[str, str], incident: dict[str, Any],
                **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/incidents/{incident['id']}/suggestions", headers=headers,
                          params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def targets(found: dict[str, Any]) -> list[str]:
    return [s["to"] for s in found["suggestions"]]


def test_the_rules_pick_comes_first_then_its_ab_backup_then_the_nearest(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    incident = new(client, auth)  # GARBAGE in T-A-1: W1's grid, W2 its backup
    found = suggestions(client, auth, incident)
    assert found["incident_id"] == incident["id"] and found["version"] == incident["version"]
    assert found["candidates"] is None
    # W3 is nearer than W4 but off duty: after everyone on duty
    assert targets(found) == ["grid_worker:W1", "grid_worker:W2", "grid_worker:W4",
                              "grid_worker:W3", "town:T"]
    first, backup, near, absent, center = found["suggestions"]
    assert first["rule"] is True and first["reason"].startswith("规则")
    assert first["distance_m"] == 0 and first["open_items"] == 1  # this incident itself
    assert backup["rule"] is False and backup["reason"].startswith("AB岗")
    assert 800 < backup["distance_m"] < 1000  # T-A-2 begins 0.008° (~890 m) north
    assert near["on_duty"] and not absent["on_duty"] and "不在岗" in absent["reason"]
    assert center["type"] == "town" and center["name"] == "七都镇(测试)指挥中心"
    assert set(first) == {"to", "type", "code", "name", "reason", "rule", "distance_m",
                          "open_items", "on_duty", "score"}


def test_a_returned_incident_says_who_sent_it_back(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    returned = act(client, auth, new(client, auth), "return", note="不归我管").json()
    found = suggestions(client, auth, returned)
    assert found["status"] == "returned"
    first = found["suggestions"][0]
    assert first["to"] == "grid_worker:W1" and first["reason"].endswith("（曾退回此件）")
    assert not any("曾退回" in s["reason"] for s in found["suggestions"][1:])


def test_the_b_post_is_the_rules_pick_when_the_a_post_is_off_duty(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    incident = new(client, auth, IN_T_B_1)  # T-B-1: W3 is off duty, W4 is the B post
    found = suggestions(client, auth, incident)
    first = found["suggestions"][0]
    assert first["to"] == "grid_worker:W4" and first["rule"] is True
    assert "AB岗" in first["reason"] and "W3" in first["reason"]
    assert targets(found)[-2:] == ["grid_worker:W3", "town:T"]  # the absent A post, late


def test_workload_pushes_a_nearer_busy_worker_down(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    db_session.add(Worker(code="W5", name="孙八", role="grid_worker", grid_code="T-B-1",
                          on_duty=True, attributes={}))
    db_session.commit()
    incident = new(client, auth)
    assert targets(suggestions(client, auth, incident))[2:4] == ["grid_worker:W5",
                                                                  "grid_worker:W4"]
    busy = [new(client, auth)["id"] for _ in range(3)]
    db_session.execute(text("UPDATE incident SET assignee_code = 'W5' WHERE id = ANY(:ids)"),
                       {"ids": busy})
    db_session.commit()
    found = suggestions(client, auth, incident)
    assert targets(found)[2:4] == ["grid_worker:W4", "grid_worker:W5"]
    w5 = next(s for s in found["suggestions"] if s["code"] == "W5")
    assert w5["open_items"] == 3 and "在办3件" in w5["reason"]
    assert 700 < w5["distance_m"] < 800  # T-B-1 begins 0.008° (~765 m) east


def test_squads_by_distance_and_the_listed_departments(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    building = new(client, auth, category="BUILDING")  # south: D1's squad Q1; JS cooperates
    assert targets(suggestions(client, auth, building)) == [
        "squad:Q1", "squad:Q2", "department:JS", "town:T"]
    pollution = new(client, auth, category="POLLUTION")  # HB handles, JS cooperates
    found = suggestions(client, auth, pollution)
    assert targets(found) == ["department:HB", "department:JS", "town:T"]
    assert found["suggestions"][1]["reason"].startswith("责任清单配合部门")
    assert found["suggestions"][1]["distance_m"] is None


def test_an_unknown_category_gets_every_kind_nearest_first(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    incident = new(client, auth, category="UFO")
    assert incident["status"] == "reported"
    found = suggestions(client, auth, incident, limit=50)
    assert not any(s["rule"] for s in found["suggestions"])
    near = targets(found)[:2]
    assert set(near) == {"grid_worker:W1", "squad:Q1"}  # both at distance 0
    distances = [s["distance_m"] for s in found["suggestions"] if s["on_duty"]
                 and s["type"] != "town" and s["distance_m"] is not None]
    assert distances == sorted(distances)
    assert targets(found)[-3:] == ["department:HB", "department:JS", "town:T"]
    assert len(suggestions(client, auth, incident, limit=2)["suggestions"]) == 2


def test_only_the_command_center_gets_suggestions(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    incident = new(client, auth)
    url = f"/api/v1/incidents/{incident['id']}/suggestions"
    response = client.get(url, headers=token_for("grid_worker", "T-A-1"))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=token_for("dispatcher", "T")).status_code == 200
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/incidents/999999/suggestions", headers=auth).status_code == 404


def test_an_unplaced_incident_offers_the_geocoders_candidates(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session, tmp_path: Path) -> None:
    from gis_service.imports.service import run_import
    from tests.town import write_csv

    path = write_csv(tmp_path / "addresses.csv",
                     ["address", "lon", "lat", "village", "road", "number"],
                     [["西村幸福路5号", "120.402", "30.902", "西村", "幸福路", "5"],
                      ["东村幸福路5号", "120.415", "30.905", "东村", "幸福路", "5"]])
    assert run_import(db_session, "addresses", path).accepted
    db_session.commit()
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": "GARBAGE", "address": "幸福路5号"})
    incident = response.json()
    assert incident["status"] == "needs_location", incident
    found = suggestions(client, auth, incident)
    assert {c["address"] for c in found["candidates"]} >= {"西村幸福路5号", "东村幸福路5号"}
    assert found["status"] == "needs_location"
    east = next(c for c in found["candidates"] if c["address"] == "东村幸福路5号")
    placed = act(client, auth, incident, "dispatch",
                 location={"lon": east["lon"], "lat": east["lat"], "crs": "cgcs2000"})
    assert placed.status_code == 200, placed.text
    assert placed.json()["grid3"] == "T-B-1"
    assert handler(placed.json()) == ("grid_worker", "W4")


def ids(client: TestClient, auth: dict[str, str], **params: Any) -> set[int]:
    response = client.get("/api/v1/incidents", headers=auth, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_the_consoles_queues(client: TestClient, town: dict[str, Path],
                             auth: dict[str, str]) -> None:
    dispatched = new(client, auth)
    reported = new(client, auth, category="UFO")
    registered = act(client, auth, new(client, auth, category="UFO"), "register").json()
    unplaced = client.post("/api/v1/incidents", headers=auth, json={
        "source": "walk_in", "category": "GARBAGE"}).json()
    returned = act(client, auth, new(client, auth), "return", note="不归我管").json()
    whistled = act(client, auth, new(client, auth, category="BUILDING"), "whistle").json()
    assert ids(client, auth, status="reported,registered") == {reported["id"],
                                                                registered["id"]}
    assert ids(client, auth, status="returned") == {returned["id"]}
    assert ids(client, auth, status="dispatched") == {dispatched["id"], whistled["id"]}
    assert ids(client, auth, queue="awaiting") == {reported["id"], registered["id"]}
    assert ids(client, auth, queue="needs_location") == {unplaced["id"]}
    assert ids(client, auth, whistle="true") == {whistled["id"]}
    assert whistled["id"] not in ids(client, auth, whistle="false")
    assert ids(client, auth, queue="whistle", status="dispatched") == {whistled["id"]}
    escalated = act(client, auth, new(client, auth), "escalate").json()
    def resolved_one() -> dict[str, Any]:
        accepted = act(client, auth, new(client, auth), "accept").json()
        return dict(act(client, auth, accepted, "resolve").json())

    resolved = resolved_one()
    verified = act(client, auth, resolved_one(), "verify").json()
    assert ids(client, auth, queue="center") == {escalated["id"]}
    assert ids(client, auth, queue="to_verify") == {resolved["id"]}
    assert ids(client, auth, queue="to_close") == {verified["id"]}
    counts = client.get("/api/v1/incidents/queues", headers=auth)
    assert counts.status_code == 200, counts.text
    assert counts.json() == {"needs_location": 1, "awaiting": 2, "center": 1, "escalated": 1,
                             "returned": 1, "to_verify": 1, "to_close": 1, "overdue": 0,
                             "whistle": 1}
    assert ids(client, auth, queue="escalated") == {escalated["id"]}
    bad = client.get("/api/v1/incidents", headers=auth, params={"queue": "nope"})
    assert bad.status_code == 422


def test_overdue_queue_and_scoped_counts(client: TestClient, town: dict[str, Path],
                                         auth: dict[str, str], token_for: Token,
                                         db_session: Session) -> None:
    late = new(client, auth)
    new(client, auth, IN_T_B_1)
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :id"), {"id": late["id"]})
    db_session.commit()
    assert ids(client, auth, queue="overdue") == {late["id"]}
    east = client.get("/api/v1/incidents/queues", headers=token_for("grid_worker", "T-B-1"))
    assert east.json()["overdue"] == 0
    assert client.get("/api/v1/incidents/queues", headers=auth).json()["overdue"] == 1


def test_a_town_dispatcher_sees_unplaced_reports_to_place_them(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    unplaced = client.post("/api/v1/incidents", headers=auth, json={
        "source": "walk_in", "category": "GARBAGE"}).json()
    assert unplaced["status"] == "needs_location"
    town_dispatcher = token_for("dispatcher", "T")
    assert ids(client, town_dispatcher, queue="needs_location") == {unplaced["id"]}
    placed = act(client, town_dispatcher, unplaced, "dispatch",
                 location={"lon": 120.402, "lat": 30.902, "crs": "wgs84"})
    assert placed.status_code == 200, placed.text
    assert placed.json()["town"] == "T"
    other_town = token_for("dispatcher", "ELSEWHERE")
    assert unplaced["id"] not in ids(client, other_town)  # placed in T now: T's alone
