"""The closed loop: actions with If-Match, roles and scopes, the list, and the audit chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.incidents.audit import verify_all
from tests.town import handler

Token = Callable[..., dict[str, str]]
IN_T_A_1 = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}
IN_T_B_2 = {"lon": 120.415, "lat": 30.915, "crs": "wgs84"}


def new(client: TestClient, auth: dict[str, str], where: dict[str, Any] = IN_T_A_1,
        category: str = "GARBAGE") -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "grid_patrol", "category": category, "location": where})
    assert response.status_code == 201, response.text
    return response.json()


def act(client: TestClient, headers: dict[str, str], incident: dict[str, Any], action: str,
        version: int | None = None, **body: Any):  # type: ignore[no-untyped-def]
    match = {"If-Match": f'"{version if version is not None else incident["version"]}"'}
    return client.post(f"/api/v1/incidents/{incident['id']}/actions",
                       headers={**headers, **match}, json={"action": action, **body})


def test_full_loop_leaves_a_complete_verifiable_history(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    worker = token_for("grid_worker", "T-A-1")
    dispatcher = token_for("dispatcher", "T")
    incident = new(client, auth)
    for headers, action, extra in (
            (worker, "accept", {}), (worker, "start", {}),
            (worker, "resolve", {"note": "cleared"}), (dispatcher, "verify", {}),
            (dispatcher, "close", {"resolution": "service"}),
            (dispatcher, "evaluate", {"satisfaction": 5})):
        response = act(client, headers, incident, action, **extra)
        assert response.status_code == 200, (action, response.text)
        incident = response.json()
    assert incident["status"] == "closed" and incident["resolution"] == "service"
    assert incident["satisfaction"] == 5 and incident["version"] == 7
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert [h["action"] for h in history] == ["report", "dispatch", "accept", "start",
                                              "resolve", "verify", "close", "evaluate"]
    assert history[4]["actor"] == "grid_worker-T-A-1" and history[4]["note"] == "cleared"
    assert history[6]["before"]["status"] == "verified"
    assert history[6]["after"]["status"] == "closed"
    assert list(verify_all(db_session)) == []


def test_tampering_is_detected(client: TestClient, town: dict[str, Path],
                               auth: dict[str, str], db_session: Session) -> None:
    incident = new(client, auth)
    try:
        db_session.execute(text("UPDATE incident_event SET note = 'x'"))
        raise AssertionError("history rows must not be editable")
    except Exception as exc:  # the append-only trigger refuses
        assert "append-only" in str(exc)
        db_session.rollback()
    incident = new(client, auth)
    # someone with the database's keys switches the guard off and edits a row
    db_session.execute(text("ALTER TABLE incident_event DISABLE TRIGGER "
                            "incident_event_append_only"))
    db_session.execute(text("UPDATE incident_event SET actor = 'nobody' WHERE incident_id = :i "
                            "AND seq = 1"), {"i": incident["id"]})
    broken = dict(verify_all(db_session))
    assert list(broken) == [incident["id"]]
    assert "content does not match" in broken[incident["id"]][0]
    db_session.execute(text("DELETE FROM incident_event WHERE incident_id = :i AND seq = 2"),
                       {"i": incident["id"]})
    assert any("rows missing" in p for p in dict(verify_all(db_session))[incident["id"]])


def test_if_match_rules(client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    incident = new(client, auth)
    missing = client.post(f"/api/v1/incidents/{incident['id']}/actions", headers=auth,
                          json={"action": "accept"})
    assert missing.status_code == 428
    first = act(client, auth, incident, "accept")
    assert first.status_code == 200
    stale = act(client, auth, incident, "return", note="not mine")  # still version 1
    assert stale.status_code == 412
    illegal = act(client, auth, first.json(), "close", resolution="service")
    assert illegal.status_code == 409 and "已接单" in illegal.json()["detail"]
    assert illegal.json()["allowed_from"] == ["verified"]
    assert illegal.headers["content-type"] == "application/problem+json"


def test_return_needs_a_reason_and_goes_back_to_the_center(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = new(client, auth)
    assert act(client, worker, incident, "return").status_code == 422
    returned = act(client, worker, incident, "return", note="this is a road matter").json()
    assert returned["status"] == "returned"
    assert handler(returned) == ("town", "T")
    redispatched = act(client, auth, returned, "dispatch", to="department:JS").json()
    assert redispatched["status"] == "dispatched"
    assert handler(redispatched) == ("department", "JS")


def test_needs_location_is_placed_then_routed(client: TestClient, town: dict[str, Path],
                                              auth: dict[str, str], db_session: Session) -> None:
    incident = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": "GARBAGE", "address": "西村某处"}).json()
    assert incident["status"] == "needs_location"
    placed = act(client, auth, incident, "dispatch", location=IN_T_B_2).json()
    assert placed["status"] == "dispatched" and placed["grid3"] == "T-B-2"
    assert handler(placed) == ("grid_worker", "W4")
    stored = db_session.execute(text("SELECT ST_X(geom), ST_Y(geom), ST_SRID(geom) "
                                     "FROM incident WHERE id = :i"), {"i": incident["id"]}).one()
    assert tuple(stored) == (120.415, 30.915, 4490)


def test_escalate_and_whistle(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                              token_for: Token) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = new(client, auth, IN_T_B_2, category="BUILDING")
    whistled = act(client, worker, incident, "whistle")
    assert whistled.status_code == 404  # T-B-2 is not this worker's grid
    whistled = act(client, token_for("grid_worker", "T-B"), incident, "whistle", to="HB").json()
    assert whistled["cooperating"] == ["HB", "JS"]
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert list(history[-1]["detail"]["called"]) == ["HB"]
    escalated = act(client, auth, whistled, "escalate").json()
    assert handler(escalated) == ("town", "T")
    assert escalated["escalation_level"] == 1
    county = act(client, auth, escalated, "escalate").json()
    assert county["assignee"]["type"] == "county"


def test_roles_and_scopes(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                          token_for: Token) -> None:
    here = new(client, auth)  # T-A-1, district D1
    there = new(client, auth, IN_T_B_2, category="POLLUTION")  # T-B-2, D2, HB + JS
    own, other = token_for("grid_worker", "T-A-1"), token_for("grid_worker", "T-B-2")
    assert client.get(f"/api/v1/incidents/{here['id']}", headers=own).status_code == 200
    assert client.get(f"/api/v1/incidents/{here['id']}", headers=other).status_code == 404
    assert act(client, other, here, "accept").status_code == 404
    assert client.get(f"/api/v1/incidents/{here['id']}/history",
                      headers=other).status_code == 404
    listed = client.get("/api/v1/incidents", headers=other).json()["items"]
    assert [i["id"] for i in listed] == [there["id"]]
    squad_d1 = token_for("squad", "D1")
    assert [i["id"] for i in client.get("/api/v1/incidents", headers=squad_d1)
            .json()["items"]] == [here["id"]]
    for department in ("HB", "JS"):  # the handler and the co-operating department
        seen = client.get("/api/v1/incidents", headers=token_for("department", department))
        assert [i["id"] for i in seen.json()["items"]] == [there["id"]]
    unscoped = token_for("grid_worker", None)
    assert client.get("/api/v1/incidents", headers=unscoped).json()["items"] == []
    assert act(client, own, here, "verify").status_code == 403  # a worker cannot verify
    assert act(client, token_for("planner"), here, "accept").status_code == 403


def test_list_filters_and_keyset_pages(client: TestClient, town: dict[str, Path],
                                       auth: dict[str, str]) -> None:
    made = [new(client, auth, category=c) for c in ("GARBAGE", "FLOOD", "POLLUTION",
                                                    "BUILDING", "GARBAGE")]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/incidents", headers=auth, params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(i["id"] for i in made) and len(seen) == len(set(seen))
    dues = [i["due_at"] for i in client.get("/api/v1/incidents", headers=auth).json()["items"]]
    assert dues == sorted(dues)  # most urgent first
    garbage = client.get("/api/v1/incidents", headers=auth, params={"category": "GARBAGE"})
    assert len(garbage.json()["items"]) == 2
    boxed = client.get("/api/v1/incidents", headers=auth,
                       params={"bbox": "120.40,30.90,120.41,30.91"}).json()["items"]
    assert len(boxed) == 5
    assert client.get("/api/v1/incidents", headers=auth,
                      params={"overdue": True}).json()["items"] == []
    assert client.get("/api/v1/incidents", headers=auth,
                      params={"bbox": "1,2,3"}).status_code == 422
    assert client.get("/api/v1/incidents", headers=auth,
                      params={"cursor": "garbage"}).status_code == 422


def test_overdue_incidents_turn_red_and_escalate(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    from datetime import UTC, datetime, timedelta

    from gis_service.incidents.escalation import escalate_overdue

    incident = new(client, auth)
    assert incident["deadline_state"] == "green"
    db_session.execute(text("UPDATE incident SET created_at = now() - interval '30 hours', "
                            "due_at = now() - interval '1 hour' WHERE id = :i"),
                       {"i": incident["id"]})
    db_session.commit()
    late = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()
    assert late["deadline_state"] == "red"
    overdue = client.get("/api/v1/incidents", headers=auth, params={"overdue": True}).json()
    assert [i["id"] for i in overdue["items"]] == [incident["id"]]
    now = datetime.now(UTC)
    assert escalate_overdue(db_session, now) == [incident["id"]]
    assert escalate_overdue(db_session, now) == []  # the new handler has a fresh deadline
    db_session.commit()
    after = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()
    assert handler(after) == ("town", "T") and after["escalation_level"] == 1
    # the town center has a fresh deadline, but the missed one is not forgotten
    assert after["deadline_state"] == "red"
    assert datetime.fromisoformat(after["due_at"]) > now
    overdue = client.get("/api/v1/incidents", headers=auth, params={"overdue": True}).json()
    assert [i["id"] for i in overdue["items"]] == [incident["id"]]
    queued = client.get("/api/v1/incidents", headers=auth, params={"queue": "center"}).json()
    assert [i["id"] for i in queued["items"]] == [incident["id"]]
    kpi = client.get("/api/v1/wall/kpi", headers=auth).json()
    assert kpi["overdue"] == 1
    missed = db_session.scalar(text("SELECT overdue_since FROM incident WHERE id = :i"),
                               {"i": incident["id"]})
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert (history[-1]["actor"], history[-1]["action"]) == ("system", "escalate")
    assert history[-1]["detail"]["reason"] == "overdue"
    assert datetime.fromisoformat(history[-1]["detail"]["was_due"]) == missed
    assert history[-1]["after"]["overdue_since"] == missed.isoformat()
    assert escalate_overdue(db_session, now + timedelta(hours=25)) == [incident["id"]]
    assert list(verify_all(db_session)) == []


def test_possible_duplicates_are_linked_and_can_be_merged(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    first = new(client, auth)
    near = {"lon": 120.4022, "lat": 30.9021, "crs": "wgs84"}  # ~25 m away
    second = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": "GARBAGE", "location": near}).json()
    far = new(client, auth, IN_T_B_2)
    other_kind = new(client, auth, category="FLOOD")
    links = client.get(f"/api/v1/incidents/{second['id']}/links", headers=auth).json()
    assert [(link["other_id"], link["kind"]) for link in links] == \
        [(first["id"], "possible_duplicate")]
    for lonely in (far, other_kind):
        assert client.get(f"/api/v1/incidents/{lonely['id']}/links", headers=auth).json() == []
    merged = act(client, auth, second, "merge", to=str(first["id"]))
    assert merged.status_code == 200 and merged.json()["status"] == "rejected"
    assert act(client, auth, first, "merge", to=str(first["id"])).status_code == 422
    survivor = client.get(f"/api/v1/incidents/{first['id']}/history", headers=auth).json()
    assert survivor[-1]["action"] == "link" and survivor[-1]["detail"] == {"merged": second["id"]}
    kinds = {link["kind"] for link in
             client.get(f"/api/v1/incidents/{first['id']}/links", headers=auth).json()}
    assert kinds == {"possible_duplicate", "merged_into"}
    assert list(verify_all(db_session)) == []
