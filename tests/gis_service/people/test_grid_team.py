"""Grid teams: imported as data, on GET /api/v1/grids/{code} as `team`, seen by whom the rule
in people/team.py says, phones whole only for the command center."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from gis_service.people.models import GridTeamMember
from tests.gis_service.people.conftest import TEAM, write_team

TokenFor = Callable[[str, str | None], dict[str, str]]


def _team(client: TestClient, headers: dict[str, str], grid: str) -> Any:
    response = client.get(f"/api/v1/grids/{grid}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["properties"]["team"]


def _stored(session: Session) -> dict[str, tuple[str, str]]:
    return {m.code: (m.grid_code, m.role) for m in session.scalars(select(GridTeamMember))}


def test_a_grids_team_with_phones_whole_for_the_center(client: TestClient, team: Path,
                                                        auth: dict[str, str]) -> None:
    assert _team(client, auth, "T-A-1") == [
        {"code": "GT-P1", "name": "周警官", "role": "police_officer", "phone": "13812345678",
         "organisation": "七都派出所"},
        {"code": "GT-P2", "name": "吴辅警", "role": "police_auxiliary",
         "phone": "13987654321", "organisation": "七都派出所"},
        {"code": "GT-V1", "name": "郑志愿", "role": "volunteer", "phone": "0512-63801234",
         "organisation": "七都志愿者协会"}]
    assert [m["code"] for m in _team(client, auth, "T-A")] == ["GT-P3", "GT-L1"]
    assert _team(client, auth, "T-B-1") == []  # a grid with no team


def test_a_grid_worker_sees_its_own_grids_team_whole_and_the_grids_above_masked(
        client: TestClient, team: Path, token_for: TokenFor) -> None:
    worker = token_for("grid_worker", "T-A-1")
    own = _team(client, worker, "T-A-1")  # the people it works beside: phones to call
    assert [(m["name"], m["phone"]) for m in own] == [
        ("周警官", "13812345678"), ("吴辅警", "13987654321"), ("郑志愿", "0512-63801234")]
    above = _team(client, worker, "T-A")
    assert [m["code"] for m in above] == ["GT-P3", "GT-L1"]
    assert all("*" in m["phone"] for m in above if m["phone"])  # the village's: masked
    assert _team(client, worker, "T-A-2") is None  # the grid next door: not theirs
    assert _team(client, worker, "T-B-2") is None
    village_worker = token_for("grid_worker", "T-A")
    assert [m["code"] for m in _team(client, village_worker, "T-A-1")] == [
        "GT-P1", "GT-P2", "GT-V1"]  # a grid under its village
    assert _team(client, village_worker, "T-B-2") is None


@pytest.mark.parametrize(("role", "scope", "phones"), [
    ("commander", None, "whole"), ("dispatcher", "T", "whole"),
    ("dispatcher", "X", "masked"), ("planner", None, "masked"),
    ("squad", "D1", None), ("department", "HB", None)])
def test_who_sees_a_team_and_how(client: TestClient, team: Path, token_for: TokenFor,
                                 role: str, scope: str | None, phones: str | None) -> None:
    shown = _team(client, token_for(role, scope), "T-A-1")
    if phones is None:
        assert shown is None
        return
    assert shown[0]["phone"] == ("13812345678" if phones == "whole" else "138****5678")
    assert shown[0]["name"] == "周警官"  # names are what the card is for


def test_the_grids_list_carries_no_team(client: TestClient, team: Path,
                                        auth: dict[str, str]) -> None:
    grids = client.get("/api/v1/grids", headers=auth).json()["features"]
    assert all("team" not in g["properties"] for g in grids)


def test_a_file_states_the_whole_team_of_the_grids_it_names(
        db_session: Session, team: Path, tmp_path: Path) -> None:
    again = [["T-A-1", "GT-P1", "周警官", "police_officer", "13812345678", "七都派出所"],
             ["T-A-1", "GT-V2", "褚志愿", "volunteer", "", ""]]  # V2 moves from T-B-2
    report = run_import(db_session, "grid_team", write_team(tmp_path, again, "again.csv"))
    assert report.accepted, report.lines()
    assert _stored(db_session) == {"GT-P1": ("T-A-1", "police_officer"),
                                   "GT-V2": ("T-A-1", "volunteer"),
                                   "GT-L1": ("T-A", "liaison"),
                                   "GT-P3": ("T-A", "police_officer")}


def test_bad_rows_reject_the_whole_file(db_session: Session, town: dict[str, Path],
                                        tmp_path: Path) -> None:
    rows = [TEAM[0],
            ["T-A-9", "GT-X1", "无网格", "volunteer", "", ""],
            ["T-A-1", "GT-X2", "无此岗", "sheriff", "", ""],
            ["T-A-1", "GT-X3", "号码错", "volunteer", "call me", ""],
            ["T-A-1", "JS", "撞部门", "volunteer", "", ""],
            ["T-A-1", "GT-P1", "重复", "volunteer", "", ""],
            ["T-A-1", "GT-X4", "", "volunteer", "", ""]]
    report = run_import(db_session, "grid_team", write_team(tmp_path, rows))
    assert not report.accepted
    said = sorted((p.type, p.grids[0]) for p in report.problems)
    assert said == [("duplicate_code", "GT-P1"), ("duplicate_code", "JS"),
                    ("invalid_attribute", "GT-X2"), ("invalid_attribute", "GT-X3"),
                    ("invalid_attribute", "GT-X4"), ("orphan", "GT-X1")]
    assert any("role 'sheriff' is not one of police_officer" in p.message
               for p in report.problems)
    assert _stored(db_session) == {}
