"""Responsibility health: the share of dispatches returned per category, departments that
answer whistles late, and level-3 grids whose load is far from the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.incidents.core.case import state_of
from gis_service.incidents.models import Incident
from gis_service.incidents.service import record
from tests.gis_service.hotspots.test_hotspots import report

Token = Callable[..., dict[str, str]]
IN_T_A_1, IN_T_B_1 = (120.402, 30.902), (120.415, 30.905)
IN_T_A_2, IN_T_B_2 = (120.405, 30.915), (120.415, 30.915)


def act(client: TestClient, headers: dict[str, str], incident: dict[str, Any], action: str,
        **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**headers, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, (action, response.text)
    return dict(response.json())


def health(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/responsibility-health", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_categories_often_returned_are_unclear(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    now = datetime.now(UTC)
    garbage = [report(client, auth, IN_T_A_1, now) for _ in range(5)]
    report(client, auth, IN_T_B_1, now, category="BUILDING")
    for incident in garbage[:2]:
        act(client, auth, incident, "return", note="不属于本网格职责")
    answer = health(client, auth)
    by_code = {c["category"]: c for c in answer["categories"]}
    assert by_code["GARBAGE"] == {"category": "GARBAGE", "name": "垃圾堆放", "dispatches": 5,
                                  "returns": 2, "return_share": 0.4, "unclear": True}
    assert by_code["BUILDING"]["return_share"] == 0.0 and not by_code["BUILDING"]["unclear"]
    assert answer["categories"][0]["category"] == "GARBAGE"
    assert "return_share" in answer["definitions"]


def test_departments_answering_whistles_late(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    now = datetime.now(UTC)
    hb = token_for("department", "HB")
    token_for("department", "JS")
    called = report(client, auth, IN_T_A_1, now, category="POLLUTION")
    called = act(client, auth, called, "whistle", to="JS;HB")
    act(client, hb, called, "accept")  # HB answers at once; JS stays silent

    # an older whistle JS answered four hours on, two hours after its deadline
    old = report(client, auth, IN_T_B_1, now - timedelta(hours=6), category="BUILDING")
    incident = db_session.get(Incident, old["id"])
    assert incident is not None
    blown = now - timedelta(hours=5)
    record(db_session, incident, actor="admin", action="whistle", at=blown,
           before=state_of(incident),
           detail={"called": {"JS": {"respond_by": (blown + timedelta(hours=2)).isoformat()}}})
    record(db_session, incident, actor="department-JS", action="attach_photo",
           at=blown + timedelta(hours=4), before=state_of(incident))
    db_session.commit()

    later = (now + timedelta(hours=3)).isoformat()
    departments = {d["department"]: d for d in health(client, auth, end=later)["departments"]}
    assert departments["HB"]["on_time"] == 1 and departments["HB"]["late_share"] == 0
    js = departments["JS"]
    assert (js["called"], js["late"], js["unanswered"], js["on_time"]) == (2, 1, 1, 0)
    assert js["late_share"] == 1.0 and js["mean_answer_hours"] == 4.0
    # before the new whistle's deadline JS's silence there is only pending
    pending = {d["department"]: d for d in health(client, auth)["departments"]}["JS"]
    assert (pending["late"], pending["pending"], pending["late_share"]) == (1, 1, 1.0)


def test_grids_far_from_the_others_feed_the_balance_view(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    now = datetime.now(UTC)
    for i in range(24):
        report(client, auth, IN_T_A_1, now - timedelta(days=1 + i * 10))
    for where in (IN_T_B_1, IN_T_A_2, IN_T_B_2):
        for i in range(3):
            report(client, auth, where, now - timedelta(days=2 + i * 30))
    grids = health(client, auth)["grids"]
    assert grids["per"] == "household" and "balance view" in grids["feeds"]
    first = grids["items"][0]
    assert first["grid"] == "T-A-1" and first["far"] and first["direction"] == "high"
    assert first["count"] == 24 and first["load"] == 0.2
    assert [g["grid"] for g in grids["items"] if g["far"]] == ["T-A-1"]


def test_only_the_center_and_planners_see_the_health(
        client: TestClient, town: dict[str, Path], token_for: Token) -> None:
    for role in ("commander", "planner", "dispatcher"):
        assert client.get("/api/v1/responsibility-health",
                          headers=token_for(role)).status_code == 200
    for role, scope in (("grid_worker", "T-A-1"), ("department", "HB"), ("squad", "D1")):
        assert client.get("/api/v1/responsibility-health",
                          headers=token_for(role, scope)).status_code == 403
    bad = client.get("/api/v1/responsibility-health", headers=token_for("commander"),
                     params={"start": "2026-02-01T00:00:00+08:00",
                             "end": "2026-01-01T00:00:00+08:00"})
    assert bad.status_code == 422 or bad.status_code == 400
