"""Who may act follows whom an incident is assigned to: a handler's own tasks (`assignee=me`),
the A post a B post covers, refusals for the rest of the area; and the center's own moves
(set the category, re-place)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.gis_service.incidents.test_loop import IN_T_A_1, IN_T_B_2, act, new
from tests.town import handler

Token = Callable[..., dict[str, str]]
IN_T_B_1 = {"lon": 120.415, "lat": 30.905, "crs": "wgs84"}


def mine(client: TestClient, headers: dict[str, str]) -> list[int]:
    response = client.get("/api/v1/incidents", headers=headers,
                          params={"assignee": "me", "status": "dispatched,accepted,in_progress"})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_grid_worker_acts_only_on_their_own_tasks(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    worker = token_for("grid_worker", "T-A-1")  # W1
    own = new(client, auth)  # GARBAGE in T-A-1: W1's
    squads = new(client, auth, category="BUILDING")  # in T-A-1 too, but the squad's
    assert handler(squads) == ("squad", "Q1")
    assert mine(client, worker) == [own["id"]]
    # the grid worker sees the squad's incident in their grid, and may not move it
    assert client.get(f"/api/v1/incidents/{squads['id']}", headers=worker).status_code == 200
    refused = act(client, worker, squads, "accept")
    assert refused.status_code == 403, refused.text
    assert "没有派给您" in refused.json()["detail"]
    assert act(client, worker, own, "accept").status_code == 200
    # the squad of the district accepts its own
    squad = token_for("squad", "D1")
    assert mine(client, squad) == [squads["id"]]
    assert act(client, squad, squads, "accept").status_code == 200
    # a department answers for its own code only, though it sees what it co-operates on
    department = token_for("department", "JS")
    polluted = new(client, auth, IN_T_B_2, category="POLLUTION")  # HB's, JS co-operates
    assert mine(client, department) == []
    assert act(client, department, polluted, "accept").status_code == 403
    assert act(client, token_for("department", "HB"), polluted, "accept").status_code == 200


def test_the_b_post_takes_over_what_the_absent_a_post_holds(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    w4 = token_for("grid_worker", "T-B-2")  # W4, the B post of W3 (T-B-1, off duty)
    routed = new(client, auth, IN_T_B_1)
    assert handler(routed) == ("grid_worker", "W4")
    # W3 held this one before going off duty: W4 covers it while W3 is away
    held = new(client, auth, IN_T_B_1)
    db_session.execute(text("UPDATE incident SET assignee_code = 'W3' WHERE id = :i"),
                       {"i": held["id"]})
    db_session.commit()
    held = client.get(f"/api/v1/incidents/{held['id']}", headers=auth).json()
    assert sorted(mine(client, w4)) == sorted([routed["id"], held["id"]])
    assert act(client, w4, held, "accept").status_code == 200
    db_session.execute(text("UPDATE worker SET on_duty = true WHERE code = 'W3'"))
    db_session.commit()
    assert mine(client, w4) == [routed["id"]]  # W3 is back: theirs again
    w1 = token_for("grid_worker", "T-A-1")
    assert act(client, w1, routed, "accept").status_code == 404  # neither seen nor held


def test_the_center_sets_the_category_and_re_places(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        token_for: Token) -> None:
    dispatcher = token_for("dispatcher", "T")
    unknown = new(client, auth, category="UFO")
    assert unknown["status"] == "reported" and unknown["assignee"] is None
    bad = act(client, dispatcher, unknown, "categorize", category="NOPE")
    assert bad.status_code == 422 and "责任清单" in bad.json()["detail"]
    typed = act(client, dispatcher, unknown, "categorize", category="GARBAGE").json()
    assert typed["category"] == "GARBAGE" and typed["status"] == "reported"
    registered = act(client, dispatcher, typed, "register").json()
    routed = act(client, dispatcher, registered, "dispatch").json()
    assert handler(routed) == ("grid_worker", "W1")
    assert routed["assignee"]["name"] == "张三"
    moved = act(client, dispatcher, routed, "place", location=IN_T_B_2).json()
    assert (moved["grid3"], moved["lon"], moved["lat"]) == ("T-B-2", 120.415, 30.915)
    assert act(client, token_for("grid_worker", "T-A-1"), moved, "place",
               location=IN_T_A_1).status_code == 403
    history = client.get(f"/api/v1/incidents/{moved['id']}/history", headers=auth).json()
    assert [h["action"] for h in history][-4:] == ["categorize", "register", "dispatch",
                                                   "place"]
    assert history[-4]["detail"]["category"] == {"from": "UFO", "to": "GARBAGE"}
    assert history[-1]["detail"]["from"]["grid3"] == "T-A-1"
    assert history[-1]["before"]["grid3"] == "T-A-1" and history[-1]["after"]["grid3"] == "T-B-2"


def test_handing_up_late_by_hand_keeps_it_overdue(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    worker = token_for("grid_worker", "T-A-1")
    late = new(client, auth)
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :i"), {"i": late["id"]})
    db_session.commit()
    late = client.get(f"/api/v1/incidents/{late['id']}", headers=auth).json()
    handed = act(client, worker, late, "escalate", note="村里处理不了").json()
    assert handler(handed) == ("town", "T") and handed["deadline_state"] == "red"
    assert handed["assignee"]["name"] == "七都镇(测试)"  # the town center, by its town
    assert handed["overdue_since"] == late["due_at"]
    # the center hands it on: a fresh deadline, the missed one kept
    returned = act(client, auth, handed, "return", note="转执法中队").json()
    moved = act(client, auth, returned, "dispatch", to="squad:Q1").json()
    assert moved["due_at"] > late["due_at"] and moved["overdue_since"] == late["due_at"]
    assert moved["deadline_state"] == "red"
