"""County department staff stationed in a town are assessed by both: the town's rating at the
town's share of the weight, the department's (entered by the county center) at the rest, with
the department's tickets in that town as the facts beside them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.imports.service import run_import
from gis_service.main import create_app
from gis_service.timeutil import CHINA_TIME
from tests.gis_service.incidents.test_county_tier import IN_T, IN_U, county_files
from tests.town import write_csv

Headers = dict[str, str]
MONTH = datetime.now(UTC).astimezone(CHINA_TIME).strftime("%Y-%m")
WORKERS = ["code", "name", "role", "grid_code", "district_code", "department_code",
           "backup_code", "on_duty"]


@pytest.fixture()
def county(db_session: Session, tmp_path: Path) -> None:
    """The county C over towns T and U; the county police (CGA) stationed in T with one
    officer, a county-wide bureau (CJ) with one who is stationed nowhere."""
    files = county_files(tmp_path)
    files["workers"] = write_csv(tmp_path / "staff.csv", WORKERS, [
        ["W1", "张三", "grid_worker", "T-A-1", "", "", "", "yes"],
        ["WU1", "周九", "grid_worker", "U-A-1", "", "", "", "yes"],
        ["S1", "钱警官", "department_staff", "", "", "CGA", "", "yes"],
        ["S2", "孙科员", "department_staff", "", "", "CJ", "", "yes"]])
    # the police also cooperate (配合) on floods, which the town center handles
    rows = files["responsibilities"].read_text(encoding="utf-8").replace(
        "FLOOD,防汛险情,town,,,", "FLOOD,防汛险情,town,,CGA,")
    files["responsibilities"].write_text(rows, encoding="utf-8")
    for kind in ("grids", "departments", "workers", "responsibilities"):
        report = run_import(db_session, kind, files[kind])
        assert report.accepted, report.lines()
    db_session.commit()


def _report(client: TestClient, auth: Headers, number: str, where: tuple[float, float],
            ) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": number, "category": "PARKING",
        "description": "车辆乱停", "location": {"lon": where[0], "lat": where[1]}})
    assert response.status_code == 201, response.text
    incident: dict[str, Any] = response.json()
    assert incident["assignee"]["code"] == "CGA"
    return incident


def _step(client: TestClient, auth: Headers, incident: dict[str, Any], action: str,
          **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**auth, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _rate(client: TestClient, headers: Headers, party: str, score: int,
          worker: str = "S1") -> Any:
    return client.put(f"/api/v1/assessment/stationed/{worker}", headers=headers,
                      params={"month": MONTH}, json={"party": party, "score": score,
                                                     "note": "按月评议"})


def _staff(client: TestClient, headers: Headers) -> list[dict[str, Any]]:
    response = client.get("/api/v1/assessment/stationed", headers=headers,
                          params={"month": MONTH})
    assert response.status_code == 200, response.text
    staff: list[dict[str, Any]] = response.json()["staff"]
    return staff


def test_the_town_and_the_county_rate_and_the_town_holds_half(
        client: TestClient, county: None, auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    # the department's work in T: two tickets handed to it, one closed, one handed back; one
    # in U, which is not T's officer's town
    closed = _report(client, auth, "P1", IN_T)
    for action in ("accept", "resolve", "verify", "close"):
        closed = _step(client, auth, closed, action, **(
            {"resolution": "service"} if action == "close" else {}))
    _step(client, auth, _report(client, auth, "P2", IN_T), "return", note="非本部门事权")
    _report(client, auth, "P3", IN_U)
    flooded = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": "F1", "category": "FLOOD",
        "description": "桥洞积水", "location": {"lon": IN_T[0], "lat": IN_T[1]}})
    assert flooded.status_code == 201 and flooded.json()["cooperating"] == ["CGA"]

    town_t, town_u = token_for("commander", "T"), token_for("commander", "U")
    county_c = token_for("commander", "C")
    [officer] = _staff(client, town_t)
    assert (officer["worker_code"], officer["town_code"]) == ("S1", "T")
    assert (officer["received"], officer["cooperated"], officer["closed"],
            officer["closed_on_time"], officer["returned"]) == (2, 1, 1, 1, 1)
    assert officer["town"]["score"] is None and officer["total"] == 0  # 未评 earns nothing
    assert officer["may_rate"] == ["town"]
    assert _staff(client, town_u) == []  # stationed in T, not U's to see
    assert [(s["worker_code"], s["may_rate"]) for s in _staff(client, county_c)] == [
        ("S1", ["county"])]  # S2 is stationed nowhere

    rated = _rate(client, town_t, "town", 90)
    assert rated.status_code == 200, rated.text
    assert rated.json()["town"] == {**rated.json()["town"], "score": 90, "points": 45.0,
                                    "weight": 50.0, "rater": "commander-T"}
    refused = _rate(client, town_t, "county", 100)  # the town does not rate for the county
    assert refused.status_code == 403 and "区县指挥中心" in refused.json()["detail"]
    assert _rate(client, county_c, "town", 100).status_code == 403
    assert _rate(client, town_u, "town", 100).status_code == 404
    assert _rate(client, county_c, "county", 80).json()["total"] == 85.0
    again = _rate(client, town_t, "town", 70)  # rating again replaces the town's rating
    assert again.json()["total"] == 75.0
    [officer] = _staff(client, county_c)
    assert (officer["town"]["score"], officer["county"]["score"]) == (70, 80)
    assert officer["town"]["note"] == "按月评议"


def test_bad_ratings_and_outsiders_are_refused(
        client: TestClient, county: None, auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    town_t = token_for("commander", "T")
    assert _rate(client, town_t, "town", 101).status_code == 422
    assert _rate(client, town_t, "village", 50).status_code == 422
    assert _rate(client, town_t, "town", 50, worker="W1").status_code == 404  # not stationed
    future = client.put("/api/v1/assessment/stationed/S1", headers=town_t,
                        params={"month": "2999-01"}, json={"party": "town", "score": 50})
    assert future.status_code == 422 and "2999-01 尚未开始" in future.json()["detail"]
    worker = client.get("/api/v1/assessment/stationed", headers=token_for("grid_worker", "T-A-1"),
                        params={"month": MONTH})
    assert worker.status_code == 403
    assert _staff(client, auth)[0]["total"] == 0  # nothing stored by the refusals


@pytest.fixture()
def client_at_60(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        assessment_town_share=0.6)
    with TestClient(create_app(settings, session_factory=session_factory)) as test_client:
        yield test_client


def test_the_town_share_is_a_setting_of_at_least_half(
        client_at_60: TestClient, county: None,
        token_for: Callable[[str, str | None], Headers]) -> None:
    _rate(client_at_60, token_for("commander", "T"), "town", 100)
    officer = _rate(client_at_60, token_for("commander", "C"), "county", 50).json()
    assert (officer["town"]["weight"], officer["county"]["weight"]) == (60.0, 40.0)
    assert officer["total"] == 80.0
    with pytest.raises(ValidationError, match="assessment_town_share"):
        Settings(assessment_town_share=0.4)
