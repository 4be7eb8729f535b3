"""A grid team member with an account (role `team`, scoped to its member code): it follows
what it was brought in on as cooperating and sees what lies in its grid, reports like anyone in
the field, calls its grid's team, and takes no handler's move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.auth.accounts import create_account
from gis_service.auth.schemas import AccountCreate
from gis_service.errors import InvalidInputError
from tests.gis_service.people.test_team_cooperating import _report, _rules
from tests.town import handler

TokenFor = Any


def _ids(client: TestClient, headers: dict[str, str], **query: str) -> set[int]:
    response = client.get("/api/v1/incidents", headers=headers,
                          params={"limit": "200", **query})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_a_team_account_is_scoped_to_a_member_code(team: Path, db_session: Session) -> None:
    made = create_account(db_session, AccountCreate(username="zhou", role="team",
                                                    scope_code="GT-P1", password=None))
    assert made.scope_code == "GT-P1"
    for scope, words in (("T-A-1", "不能作 team 账号的范围"), ("GT-NONE", "不存在"),
                         (None, "需要范围")):
        with pytest.raises(InvalidInputError, match=words):
            create_account(db_session, AccountCreate(username=f"x{scope}", role="team",
                                                     scope_code=scope, password=None))


def test_a_police_officer_follows_what_it_was_brought_in_on(
        client: TestClient, team: Path, auth: dict[str, str], db_session: Session,
        tmp_path: Path, token_for: TokenFor) -> None:
    assert _rules(db_session, tmp_path, [
        ["PUBLIC_ORDER", "治安纠纷", "grid", "", "JS;team:police", "1", "24"],
        ["GARBAGE", "垃圾堆放", "grid", "", "", "1", "24"]]).accepted
    brawl = _report(client, auth, "PUBLIC_ORDER", 120.402, 30.902)  # T-A-1: GT-P1, GT-P2
    litter = _report(client, auth, "GARBAGE", 120.403, 30.903)  # T-A-1, no team brought in
    elsewhere = _report(client, auth, "PUBLIC_ORDER", 120.418, 30.918)  # the east village
    officer = token_for("team", "GT-P1")

    # its share (协办): the phone page's "my tasks" list, exactly the incidents it cooperates on
    assert _ids(client, officer, assignee="me") == {brawl["id"]}
    # what it sees: its grid's incidents too, nothing of the east village
    seen = _ids(client, officer)
    assert {brawl["id"], litter["id"]} <= seen and elsewhere["id"] not in seen
    assert client.get(f"/api/v1/incidents/{elsewhere['id']}",
                      headers=officer).status_code == 404
    # the grid worker handles; the officer takes no handler's move
    assert handler(brawl) == ("grid_worker", "W1")
    refused = client.post(f"/api/v1/incidents/{brawl['id']}/actions", headers={
        **officer, "If-Match": f'"{brawl["version"]}"'}, json={"action": "accept"})
    assert refused.status_code == 403, refused.text
    # it reports what it sees, as anyone in the field
    made = client.post("/api/v1/incidents", headers=officer, json={
        "source": "grid_patrol", "category": "GARBAGE",
        "location": {"lon": 120.404, "lat": 30.904, "crs": "wgs84"}})
    assert made.status_code == 201, made.text
    history = client.get(f"/api/v1/incidents/{made.json()['id']}/history",
                         headers=officer).json()
    assert history[0]["actor"] == "team-GT-P1"

    # its grid's team, phones whole (the people it works beside); the village's masked
    own = client.get("/api/v1/grids/T-A-1", headers=officer).json()["properties"]["team"]
    assert ("吴辅警", "13987654321") in [(m["name"], m["phone"]) for m in own]
    village = client.get("/api/v1/grids/T-A", headers=officer).json()["properties"]["team"]
    assert all("*" in m["phone"] for m in village if m["phone"])
    assert client.get("/api/v1/grids/T-B-2", headers=officer).json()["properties"]["team"] \
        is None


def test_a_liaison_of_a_village_sees_the_village(client: TestClient, team: Path,
                                                  auth: dict[str, str], db_session: Session,
                                                  token_for: TokenFor) -> None:
    # the liaison's grid is the village (level 2): every grid under it is its area
    north = _report(client, auth, "GARBAGE", 120.402, 30.918)  # T-A-2
    assert north["grid2"] == "T-A"
    assert north["id"] in _ids(client, token_for("team", "GT-L1"))
