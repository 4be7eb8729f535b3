"""Planners by tier: a planner scoped to a town changes that town's grids only, one scoped to
the county also its towns' outlines; neither the county grid itself. Refused edits change
nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.gis_service.imports.test_county_import import county_features
from tests.town import write_geojson

API = "/api/v1/plans"
Headers = dict[str, str]


@pytest.fixture()
def county(db_session: Session, tmp_path: Path) -> None:
    report = run_import(db_session, "grids", write_geojson(tmp_path / "c.geojson",
                                                           county_features()))
    assert report.accepted, report.lines()
    db_session.commit()


def _feature(code: str, **props: Any) -> dict[str, Any]:
    original = next(f for f in county_features() if f["properties"]["code"] == code)
    return {"type": "Feature", "geometry": original["geometry"],
            "properties": {**original["properties"], **props}}


def _plan(client: TestClient, headers: Headers) -> dict[str, Any]:
    response = client.post(API, json={"name": "边界调整"}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _put(client: TestClient, headers: Headers, plan: dict[str, Any], code: str) -> Any:
    current = client.get(f"{API}/{plan['id']}", headers=headers).json()
    return client.put(f"{API}/{plan['id']}/grids/{code}", json=_feature(code, name=f"{code}改"),
                      headers={**headers, "If-Match": f'"{current["version"]}"'})


def test_each_planner_changes_what_their_tier_holds(
        client: TestClient, county: None,
        token_for: Callable[[str, str | None], Headers]) -> None:
    town_t, county_c = token_for("planner", "T"), token_for("planner", "C")
    plan = _plan(client, town_t)
    assert _put(client, town_t, plan, "T-A-1").status_code == 200
    assert _put(client, town_t, plan, "S-SCHOOL").status_code == 200  # a special grid of T
    for elsewhere in ("U-A-1", "U-A", "T", "C"):  # the other town, T's outline, the county
        refused = _put(client, town_t, plan, elsewhere)
        assert refused.status_code == 403, elsewhere
        assert elsewhere in refused.json()["detail"]
    current = client.get(f"{API}/{plan['id']}", headers=town_t).json()
    moved = client.post(f"{API}/{plan['id']}/operations", headers={
        **town_t, "If-Match": f'"{current["version"]}"'},
        json={"op": "merge", "grids": ["T-A", "T-B"], "into": "T-X", "name": "合并村"})
    assert moved.status_code == 200, moved.text  # inside T: fine
    current = client.get(f"{API}/{plan['id']}", headers=town_t).json()
    deleted = client.delete(f"{API}/{plan['id']}/grids/U-A-1",
                            headers={**town_t, "If-Match": f'"{current["version"]}"'})
    assert deleted.status_code == 403
    grids = client.get(f"{API}/{plan['id']}/grids", headers=town_t).json()["features"]
    names = {f["properties"]["code"]: f["properties"]["name"] for f in grids}
    assert names["U-A-1"] == "邻村一组" and names["T"] == "七都镇(测试)"  # untouched

    other = _plan(client, county_c)
    for code in ("T", "U", "U-A-1", "T-A-1"):
        assert _put(client, county_c, other, code).status_code == 200, code
    assert _put(client, county_c, other, "C").status_code == 403


def test_a_planner_scope_names_a_town_or_the_county(
        client: TestClient, county: None, auth: Headers) -> None:
    made = client.post("/api/v1/accounts", headers=auth, json={
        "username": "guihua", "role": "planner", "scope_code": "T-A-1",
        "password": "Plan-the-lake-77"})
    assert made.status_code == 422 and "T-A-1" in made.json()["detail"]
