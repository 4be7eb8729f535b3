"""The HTTP API: auth, problem+json errors, locate, grids and the other read endpoints."""

from __future__ import annotations

import copy
from itertools import pairwise
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from grid_layers.crs import point_from_storage
from tests.town import box, grid_features, write_geojson


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_api_needs_a_token(client: TestClient, town: dict[str, Path]) -> None:
    response = client.get("/api/v1/grids")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/grids", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_locate_get(client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    response = client.get("/api/v1/locate", params={"lon": 120.402, "lat": 30.902},
                          headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["grid3"] == {"code": "T-A-1", "name": "西村一组"}
    assert body["town"]["code"] == "T" and body["district"]["squad_code"] == "Q1"
    assert [z["level"] for z in body["zones"]] == [1, 2]


def test_locate_in_every_crs(client: TestClient, town: dict[str, Path],
                             auth: dict[str, str]) -> None:
    # a point just inside T-B-2's south-west corner, given in each CRS
    lon, lat = 120.4101, 30.9101
    for crs in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        x, y = point_from_storage(lon, lat, crs)
        body = client.get("/api/v1/locate", params={"lon": x, "lat": y, "crs": crs},
                          headers=auth).json()
        assert body["grid3"]["code"] == "T-B-2", crs


def test_locate_bad_input_is_a_422_problem(client: TestClient, town: dict[str, Path],
                                           auth: dict[str, str]) -> None:
    for params in ({"lon": 120.4, "lat": 95}, {"lon": "x", "lat": 30.9}, {"lat": 30.9},
                   {"lon": 120.4, "lat": 30.9, "crs": "mars"}):
        response = client.get("/api/v1/locate", params=params, headers=auth)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


def test_locate_batch(client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    points = [[120.402, 30.902], [120.41, 30.905], [121.0, 31.0]]
    response = client.post("/api/v1/locate", json={"crs": "wgs84", "points": points},
                           headers=auth)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["grid3"]["code"] if r["grid3"] else None for r in results] == \
        ["T-A-1", "T-A-1", None]
    bad = client.post("/api/v1/locate", json={"points": [[120.4, 300]]}, headers=auth)
    assert bad.status_code == 422


def test_locate_at_a_past_time(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                               db_session: Session, tmp_path: Path) -> None:
    before = client.get("/api/v1/grids/T-A-1", headers=auth).json()["properties"]["valid_from"]
    moved = copy.deepcopy(grid_features())
    for feature in moved:
        if feature["properties"]["code"] == "T-A-1":
            feature["geometry"] = box(120.40, 30.90, 120.41, 30.915)
        if feature["properties"]["code"] == "T-A-2":
            feature["geometry"] = box(120.40, 30.915, 120.41, 30.92)
    report = run_import(db_session, "grids", write_geojson(tmp_path / "m.geojson", moved))
    assert report.accepted, report.lines()
    db_session.commit()
    point = {"lon": 120.405, "lat": 30.912}
    now = client.get("/api/v1/locate", params=point, headers=auth).json()
    then = client.get("/api/v1/locate", params={**point, "at": before}, headers=auth).json()
    assert now["grid3"]["code"] == "T-A-1" and then["grid3"]["code"] == "T-A-2"
    old = client.get("/api/v1/grids/T-A-1", params={"at": before}, headers=auth).json()
    assert old["properties"]["version"] == 1


def test_grids_filters(client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    response = client.get("/api/v1/grids", params={"level": 3, "parent": "T-B"}, headers=auth)
    assert response.headers["content-type"] == "application/geo+json"
    codes = [f["properties"]["code"] for f in response.json()["features"]]
    assert codes == ["T-B-1", "T-B-2"]
    special = client.get("/api/v1/grids", params={"kind": "education"}, headers=auth).json()
    assert [f["id"] for f in special["features"]] == ["S-SCHOOL"]
    assert client.get("/api/v1/grids/NOPE", headers=auth).status_code == 404


def test_geojson_outer_rings_are_counter_clockwise(client: TestClient, town: dict[str, Path],
                                                   auth: dict[str, str]) -> None:
    feature = client.get("/api/v1/grids/T", headers=auth).json()
    ring = feature["geometry"]["coordinates"][0][0]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))
    assert area2 > 0
    assert "crs" not in feature and "crs" not in feature["geometry"]  # RFC 7946: no crs


def test_other_layers(client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    districts = client.get("/api/v1/districts", headers=auth).json()["features"]
    assert [(d["id"], d["properties"]["squad_code"]) for d in districts] == \
        [("D1", "Q1"), ("D2", "Q2")]
    zones = client.get("/api/v1/zones", headers=auth).json()["features"]
    assert [z["properties"]["level"] for z in zones] == [1, 2]
    projects = client.get("/api/v1/projects", headers=auth).json()["features"]
    assert projects[0]["geometry"]["type"] == "Point"
    workers = client.get("/api/v1/workers", params={"role": "grid_worker"}, headers=auth).json()
    assert [w["code"] for w in workers] == ["W1", "W2", "W3", "W4"]
    assert workers[2]["backup_code"] == "W4" and workers[2]["on_duty"] is False


def test_browser_login_sets_a_cookie(client: TestClient, town: dict[str, Path],
                                     admin_token: str) -> None:
    wrong = client.post("/login", data={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401
    response = client.post("/login", data={"username": "admin", "password": "s3cret-pw"})
    assert response.status_code == 200
    assert client.get("/api/v1/grids", params={"level": 1}).status_code == 200


def test_docs_load_nothing_from_outside(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "swagger-ui-bundle.js" in page
    assert "https://" not in page and "http://" not in page
