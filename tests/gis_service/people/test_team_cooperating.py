"""A responsibility row may name a grid team's role as cooperating (`team:police`,
`team:volunteer`, …): a report of that category brings in the members of that role where it
lies — the level-3 grid's, else its village's — beside the row's departments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.gis_service.people.conftest import write_team
from tests.town import handler, write_csv

HEADER = ["category_code", "category_name", "handler", "department_code", "cooperating",
          "respond_hours", "resolve_hours"]


def _rules(session: Session, folder: Path, rows: list[list[str]]) -> Any:
    report = run_import(session, "responsibilities", write_csv(folder / "r.csv", HEADER, rows))
    session.commit()
    return report


def _report(client: TestClient, auth: dict[str, str], category: str, lon: float,
            lat: float) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": category,
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_public_order_report_brings_in_the_grids_police_group(
        client: TestClient, team: Path, auth: dict[str, str], db_session: Session,
        tmp_path: Path) -> None:
    report = _rules(db_session, tmp_path, [
        ["PUBLIC_ORDER", "治安纠纷", "grid", "", "JS;team:police", "1", "24"]])
    assert report.accepted, report.lines()
    west = _report(client, auth, "PUBLIC_ORDER", 120.402, 30.902)  # T-A-1
    assert handler(west) == ("grid_worker", "W1")
    assert west["cooperating"] == ["GT-P1", "GT-P2", "JS"]  # the police group, not volunteers
    history = client.get(f"/api/v1/incidents/{west['id']}/history", headers=auth).json()
    assert history[1]["detail"]["team"] == {"roles": ["police_officer", "police_auxiliary"],
                                            "members": ["GT-P1", "GT-P2"]}
    # T-A-2 has no team of its own: the village's police officer (no auxiliary there)
    north = _report(client, auth, "PUBLIC_ORDER", 120.402, 30.918)
    assert north["cooperating"] == ["GT-P3", "JS"]
    # the east village has no police group: the departments alone
    east = _report(client, auth, "PUBLIC_ORDER", 120.418, 30.918)
    assert east["cooperating"] == ["JS"]


def test_one_role_and_a_department_handled_matter(client: TestClient, team: Path,
                                                  auth: dict[str, str], db_session: Session,
                                                  tmp_path: Path) -> None:
    assert _rules(db_session, tmp_path, [
        ["NOISE", "噪声扰民", "department", "HB", "team:police_officer;team:volunteer", "1",
         "24"]]).accepted
    body = _report(client, auth, "NOISE", 120.402, 30.902)
    assert handler(body) == ("department", "HB")
    assert body["cooperating"] == ["GT-P1", "GT-V1"]


def test_the_whistle_calls_the_rows_departments_only(client: TestClient, team: Path,
                                                     auth: dict[str, str],
                                                     db_session: Session,
                                                     tmp_path: Path) -> None:
    assert _rules(db_session, tmp_path, [
        ["PUBLIC_ORDER", "治安纠纷", "town", "", "JS;team:police", "1", "24"]]).accepted
    body = _report(client, auth, "PUBLIC_ORDER", 120.402, 30.902)
    whistled = client.post(f"/api/v1/incidents/{body['id']}/actions", headers={
        **auth, "If-Match": f'"{body["version"]}"'}, json={"action": "whistle"})
    assert whistled.status_code == 200, whistled.text
    assert whistled.json()["cooperating"] == ["GT-P1", "GT-P2", "JS"]


def test_unknown_team_roles_are_refused(db_session: Session, town: dict[str, Path],
                                        tmp_path: Path) -> None:
    report = _rules(db_session, tmp_path, [
        ["PUBLIC_ORDER", "治安纠纷", "grid", "", "team:sheriff;team:", "1", "24"]])
    assert not report.accepted
    assert [p.grids for p in report.problems] == [("PUBLIC_ORDER",), ("PUBLIC_ORDER",)]
    assert "cooperating 'team:sheriff' names no team role" in report.problems[0].message
    assert "team:police" in report.problems[0].message


def test_a_grid_team_import_reroutes_new_reports(client: TestClient, town: dict[str, Path],
                                                 auth: dict[str, str], db_session: Session,
                                                 tmp_path: Path) -> None:
    assert _rules(db_session, tmp_path, [
        ["PUBLIC_ORDER", "治安纠纷", "grid", "", "team:police", "1", "24"]]).accepted
    before = _report(client, auth, "PUBLIC_ORDER", 120.415, 30.905)  # T-B-1
    assert before["cooperating"] == []
    police = [["T-B-1", "GT-P9", "孙警官", "police_officer", "", "七都派出所"]]
    assert run_import(db_session, "grid_team", write_team(tmp_path, police)).accepted
    db_session.commit()
    after = _report(client, auth, "PUBLIC_ORDER", 120.415, 30.905)
    assert after["cooperating"] == ["GT-P9"]
