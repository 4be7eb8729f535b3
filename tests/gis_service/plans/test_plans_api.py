"""The plan API on the test town: drafts, roles, If-Match, grid edits with snapping, undo and
live validation."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import X0, X1, Y0, Y1, box, grid_features, write_geojson

API = "/api/v1/plans"
METRE_LAT = 1 / 111_320.0  # a metre north-south, in degrees
Headers = dict[str, str]
TokenFor = Callable[[str, str | None], Headers]


def create(client: TestClient, headers: Headers, **body: Any) -> dict[str, Any]:
    """A new plan (201) as the API returns it."""
    response = client.post(API, json={"name": "2027 调整", **body}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return dict(response.json())


def if_match(plan: dict[str, Any], headers: Headers) -> Headers:
    """Headers naming the plan's version."""
    return {**headers, "If-Match": f'"{plan["version"]}"'}


def grid_feature(source: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    """A test-town grid as a PUT body, with changed geometry or properties."""
    original = next(f for f in grid_features() if f["properties"]["code"] == source)
    return {"type": "Feature", "geometry": geometry,
            "properties": {**original["properties"], **props}}


def put(client: TestClient, plan: dict[str, Any], headers: Headers, code: str,
        feature: dict[str, Any]) -> dict[str, Any]:
    """PUT a grid (200); the plan as it is afterwards."""
    response = client.put(f"{API}/{plan['id']}/grids/{code}", json=feature,
                          headers=if_match(plan, headers))
    assert response.status_code == 200, response.text
    return dict(client.get(f"{API}/{plan['id']}", headers=headers).json())


def validation(client: TestClient, plan: dict[str, Any], headers: Headers) -> dict[str, Any]:
    """The plan's validation result."""
    response = client.get(f"{API}/{plan['id']}/validation", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def stored_rows(session: Session, plan_id: int) -> list[tuple[Any, ...]]:
    """Every column of a plan's grids but the row id, geometry as EWKB bytes."""
    return [tuple(r) for r in session.execute(text(
        "SELECT code, name, level, kind, parent_code, households, population, multipart, "
        "attributes, ST_AsEWKB(geom), source_version_id, edited_at, edited_by "
        "FROM plan_grid WHERE plan_id = :p ORDER BY code"), {"p": plan_id})]


def test_a_draft_of_now_copies_the_town_and_is_valid(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth, note="东西村调整")
    assert (plan["status"], plan["owner"], plan["grid_count"], plan["version"]) == (
        "draft", "admin", 8, 1)
    grids = client.get(f"{API}/{plan['id']}/grids", headers=auth).json()
    assert [f["properties"]["code"] for f in grids["features"]] == sorted(
        f["properties"]["code"] for f in grid_features())
    assert not any(f["properties"]["changed"] for f in grids["features"])
    first = grids["features"][0]
    assert set(first["properties"]) == {
        "code", "name", "level", "kind", "parent_code", "households", "population",
        "multipart", "source_version_id", "changed", "edited_at", "edited_by"}
    assert validation(client, plan, auth) == {"valid": True, "problems": [], "repairable": 0}
    assert [p["id"] for p in client.get(API, headers=auth).json()] == [plan["id"]]


def test_a_draft_of_a_past_moment_has_the_boundaries_then(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers,
        tmp_path: Path) -> None:
    before_rename = datetime.now(UTC)
    time.sleep(0.01)
    renamed = grid_feature("T-A-1", box(X0, Y0, X1, Y1), name="西村新一组")
    report = run_import(db_session, "grids", write_geojson(tmp_path / "g.geojson", [renamed]))
    assert report.accepted, report.lines()
    db_session.commit()
    names = {}
    for at in (before_rename, None):
        plan = create(client, auth, **({"at": at.isoformat()} if at else {}))
        features = client.get(f"{API}/{plan['id']}/grids", headers=auth).json()["features"]
        names[at] = {f["properties"]["code"]: f["properties"]["name"] for f in features}
    assert names[before_rename]["T-A-1"] == "西村一组" and names[None]["T-A-1"] == "西村新一组"
    empty = create(client, auth, at="2000-01-01T00:00:00+08:00")
    assert empty["grid_count"] == 0


def test_roles(client: TestClient, town: dict[str, Path], auth: Headers,
               token_for: TokenFor) -> None:
    plan = create(client, token_for("planner", None))
    worker, commander = token_for("grid_worker", "T-A-1"), token_for("commander", None)
    assert client.get(API, headers=worker).status_code == 403
    assert client.get(f"{API}/{plan['id']}/validation", headers=worker).status_code == 403
    assert client.post(API, json={"name": "x"}, headers=worker).status_code == 403
    for path in ("", "/grids", "/validation", "/edits"):
        assert client.get(f"{API}/{plan['id']}{path}", headers=commander).status_code == 200
    assert client.post(API, json={"name": "x"}, headers=commander).status_code == 403
    feature = grid_feature("T-A-1", box(X0, Y0, X1, Y1))
    response = client.put(f"{API}/{plan['id']}/grids/T-A-1", json=feature,
                          headers=if_match(plan, commander))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_if_match_is_required_and_checked(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    url = f"{API}/{plan['id']}"
    assert client.patch(url, json={"note": "x"}, headers=auth).status_code == 428
    assert client.patch(url, json={"note": "x"},
                        headers={**auth, "If-Match": '"7"'}).status_code == 412
    renamed = client.patch(url, json={"name": "改名"}, headers=if_match(plan, auth))
    assert renamed.status_code == 200 and renamed.headers["etag"] == '"2"'
    assert (renamed.json()["name"], renamed.json()["note"]) == ("改名", "")
    feature = grid_feature("T-A-1", box(X0, Y0, X1, Y1))
    assert client.put(f"{url}/grids/T-A-1", json=feature,
                      headers=if_match(plan, auth)).status_code == 412  # version 1 is stale
    assert client.post(f"{url}/undo", headers=auth).status_code == 428
    discarded = client.delete(url, headers=if_match(renamed.json(), auth))
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    later = discarded.json()
    for response in (
            client.put(f"{url}/grids/T-A-1", json=feature, headers=if_match(later, auth)),
            client.delete(f"{url}/grids/T-A-1", headers=if_match(later, auth)),
            client.post(f"{url}/undo", headers=if_match(later, auth)),
            client.patch(url, json={"note": "x"}, headers=if_match(later, auth))):
        assert response.status_code == 409, response.text


def test_an_edge_moved_by_a_hand_is_snapped_back(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    jitter = 0.3 * METRE_LAT
    moved = grid_feature("T-A-1", box(X0, Y0, X1, Y1 + jitter))  # north edge 0.3 m up
    response = client.put(f"{API}/{plan['id']}/grids/T-A-1", json=moved,
                          headers=if_match(plan, auth))
    assert response.status_code == 200 and response.headers["etag"] == '"2"'
    assert shapely.equals(shape(response.json()["geometry"]), shape(box(X0, Y0, X1, Y1)))
    assert validation(client, plan, auth)["valid"] is True
    log = client.get(f"{API}/{plan['id']}/edits", headers=auth).json()
    assert [(e["seq"], e["operation"], e["actor"], e["undone"]) for e in log] == [
        (1, "put", "admin", False)]


def test_a_bad_edit_shows_overlap_and_gap_with_areas_and_geometry(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    plan = put(client, plan, auth, "T-A-1",
               grid_feature("T-A-1", box(X0, Y0, X1, Y1 + 30 * METRE_LAT)))
    result = validation(client, plan, auth)
    assert result["valid"] is False
    (overlap,) = [p for p in result["problems"] if p["type"] == "overlap"]
    assert overlap["grids"] == ["T-A-1", "T-A-2"]
    assert overlap["area_m2"] == pytest.approx(30 * 955, rel=0.02)
    assert shape(overlap["geometry"]).geom_type == "Polygon"
    plan = put(client, plan, auth, "T-A-1",
               grid_feature("T-A-1", box(X0, Y0, X1, Y1 - 20 * METRE_LAT)))
    result = validation(client, plan, auth)
    (gap,) = [p for p in result["problems"] if p["type"] == "gap"]
    assert "T-A" in gap["grids"] and gap["area_m2"] == pytest.approx(20 * 955, rel=0.02)
    assert shape(gap["geometry"]).bounds[1] == pytest.approx(Y1 - 20 * METRE_LAT)


def test_deleting_grids_leaves_gaps_and_orphans(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    response = client.delete(f"{API}/{plan['id']}/grids/T-A-1", headers=if_match(plan, auth))
    assert response.status_code == 200 and response.json()["grid_count"] == 7
    (gap,) = validation(client, plan, auth)["problems"]
    assert gap["type"] == "gap" and "T-A" in gap["grids"]
    assert gap["area_m2"] == pytest.approx(955 * 1113, rel=0.02)
    plan = response.json()
    response = client.delete(f"{API}/{plan['id']}/grids/T-A", headers=if_match(plan, auth))
    problems = validation(client, plan, auth)["problems"]
    assert {(p["type"], tuple(p["grids"])) for p in problems} >= {
        ("orphan", ("T-A-2",)), ("gap", ("T", "T-B"))}
    missing = client.delete(f"{API}/{plan['id']}/grids/NOPE",
                            headers=if_match(response.json(), auth))
    assert missing.status_code == 404
    for plan_id in (0, 999, 3_000_000_000):
        assert client.get(f"{API}/{plan_id}/validation", headers=auth).status_code == 404


@pytest.mark.parametrize(("change", "detail"), [
    ({"properties": {"code": "T-A-2"}}, "要素的编码 T-A-2 与地址中的 T-A-1 不一致"),
    ({"properties": {"colour": "red"}}, "colour"),
    ({"geometry": {"type": "Polygon", "coordinates": [
        [[X0, Y0], [X1, Y1], [X1, Y0], [X0, Y1], [X0, Y0]]]}}, "几何无效：边界自相交，位于 ("),
    ({"geometry": {"type": "Point", "coordinates": [X0, Y0]}}, "Polygon"),
    ({"geometry": {"type": "Polygon", "coordinates": "nonsense"}}, "GeoJSON"),
    ({"geometry": box(30.90, 120.40, 30.92, 120.41)}, "超出中国范围"),
])
def test_bad_grid_bodies_are_refused(client: TestClient, town: dict[str, Path], auth: Headers,
                                     change: dict[str, Any], detail: str) -> None:
    plan = create(client, auth)
    feature = grid_feature("T-A-1", box(X0, Y0, X1, Y1))
    feature = {**feature, **{k: v for k, v in change.items() if k != "properties"}}
    feature["properties"] = {**feature["properties"], **change.get("properties", {})}
    response = client.put(f"{API}/{plan['id']}/grids/T-A-1", json=feature,
                          headers=if_match(plan, auth))
    assert response.status_code == 422 and detail in response.json()["detail"], response.text


def test_undo_restores_the_grids_exactly(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    original = stored_rows(db_session, plan["id"])
    plan = put(client, plan, auth, "T-A-1", grid_feature(
        "T-A-1", box(X0, Y0, X1, Y1 + 30 * METRE_LAT), name="改", households=7))
    plan = put(client, plan, auth, "T-NEW", grid_feature(
        "S-SCHOOL", box(120.401, 30.901, 120.402, 30.902), code="T-NEW"))
    response = client.delete(f"{API}/{plan['id']}/grids/T-B", headers=if_match(plan, auth))
    plan = response.json()
    assert stored_rows(db_session, plan["id"]) != original
    for _ in range(3):
        response = client.post(f"{API}/{plan['id']}/undo", headers=if_match(plan, auth))
        assert response.status_code == 200, response.text
        plan = response.json()
    assert plan["version"] == 7
    assert stored_rows(db_session, plan["id"]) == original
    assert [e["undone"] for e in client.get(f"{API}/{plan['id']}/edits", headers=auth).json()
            ] == [True, True, True]
    nothing = client.post(f"{API}/{plan['id']}/undo", headers=if_match(plan, auth))
    assert nothing.status_code == 409
