"""The wall of a county: a town center sees its own town alone, the county center every
town's outline with the towns' league, and drills into a town with `/?town=CODE`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import
from tests.gis_service.incidents.test_county_tier import IN_T, IN_U, county_files

PASSWORD = "Wall-of-the-lake-42"


@pytest.fixture()
def county(db_session: Session, tmp_path: Path) -> None:
    files = county_files(tmp_path)
    for kind in ("grids", "departments", "workers", "responsibilities"):
        assert run_import(db_session, kind, files[kind]).accepted
    for name, role, scope in (("county", "dispatcher", "C"), ("town-u", "dispatcher", "U"),
                              ("boss", "commander", None)):
        auth_service.add_account(db_session, username=name, role=role, scope_code=scope,
                                 password=PASSWORD)
    db_session.commit()


def _drawn(code: str, page: str) -> bool:
    """Whether the page draws the grid (a feature of the map's GeoJSON)."""
    return f'"code": "{code}"' in page


def _signed_in(client: TestClient, name: str) -> Callable[..., str]:
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code \
        == 200

    def page(path: str = "/", status: int = 200) -> str:
        response = client.get(path)
        assert response.status_code == status, response.text
        return response.text
    return page


def test_a_town_center_sees_its_own_town_alone(client: TestClient, county: None) -> None:
    page = _signed_in(client, "town-u")
    text = page()
    assert "邻镇(测试) · 网格化管理一张图" in text and "七都" not in text
    assert _drawn("U-A-1", text) and not _drawn("T-A-1", text)  # only its own grids
    assert "wall-league" not in text and "wall-back" not in text
    assert "七都" not in page("/?town=T")  # a town center cannot look elsewhere


def test_the_county_center_sees_its_towns_and_drills_into_one(
        client: TestClient, county: None, auth: dict[str, str]) -> None:
    for number, where in enumerate((IN_T, IN_U, IN_U)):
        client.post("/api/v1/incidents", headers=auth, json={
            "source": "hotline_12345", "external_id": f"W{number}", "category": "FLOOD",
            "description": "积水", "location": {"lon": where[0], "lat": where[1]}})
    page = _signed_in(client, "county")
    text = page()
    assert "吴江区(测试) · 网格化管理一张图" in text
    assert _drawn("T", text) and _drawn("U", text) and not _drawn("T-A-1", text)  # outlines
    assert 'id="wall-league"' in text and '"league": "/api/v1/reports/league"' in text
    drilled = page("/?town=T")
    assert "七都镇(测试) · 网格化管理一张图" in drilled and 'id="wall-back"' in drilled
    assert _drawn("T-A-1", drilled) and not _drawn("U-A-1", drilled)
    assert '"town": "T"' in drilled  # the live answers are narrowed to the town
    kpi = client.get("/api/v1/wall/kpi", params={"town": "U"}).json()
    assert kpi["today"]["total"] == 2
    assert client.get("/api/v1/wall/kpi").json()["today"]["total"] == 3
    assert "没有编号为 NOPE 的镇" in page("/?town=NOPE", status=404)
    boss = TestClient(client.app)
    assert "吴江区(测试) · 网格化管理一张图" in _signed_in(boss, "boss")()  # the one county


def test_the_printable_league(client: TestClient, county: None, auth: dict[str, str]) -> None:
    for number, where in enumerate((IN_T, IN_U, IN_U)):
        client.post("/api/v1/incidents", headers=auth, json={
            "source": "hotline_12345", "external_id": f"L{number}", "category": "FLOOD",
            "description": "积水", "location": {"lon": where[0], "lat": where[1]}})
    page = _signed_in(client, "county")
    text = page("/reports/league")
    assert "各镇工作排名" in text and 'href="/?town=U"' in text
    assert re.search(r'data-code="U">.*?<td class="n">2</td>', text)
    assert "邻镇" in page("/reports/league?month=2020-01")
    town = TestClient(client.app)
    only_u = _signed_in(town, "town-u")("/reports/league")
    assert "邻镇" in only_u and "七都" not in only_u
