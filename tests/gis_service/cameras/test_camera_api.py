"""Cameras served: GET /api/v1/cameras (a reference layer, `town=` narrows it), a camera's
card with its open incidents as the caller may see them, the OGC collection and the tiles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident
from tests.gis_service.cameras.conftest import EAST, WEST, write_cameras
from tests.gis_service.tiles.conftest import features, town_tiles

TokenFor = Callable[[str, str | None], dict[str, str]]


def _report(client: TestClient, auth: dict[str, str], number: int, lon: float,
            lat: float) -> int:
    body = {"source": "video", "external_id": f"cam-{number}", "category": "GARBAGE",
            "location": {"lon": lon, "lat": lat, "crs": "wgs84"}}
    response = client.post("/api/v1/incidents", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_the_cameras_layer(client: TestClient, cameras: Path, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/cameras", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    found = {f["id"]: f for f in response.json()["features"]}
    assert list(found) == [WEST, EAST]
    west = found[WEST]
    assert west["geometry"] == {"type": "Point", "coordinates": [120.402, 30.902]}
    assert west["properties"] == {
        "code": WEST, "name": "西村路口", "division": "32050900", "county": "320509",
        "industry": "00", "industry_name": "社会治安路面接入", "device_type": "132",
        "device_type_name": "网络摄像机", "network": "0", "network_name": "监控报警专网",
        "serial": "000001", "direction": 90.0, "ptz": "dome", "owner": "七都派出所",
        "attributes": {}}
    assert found[EAST]["properties"]["direction"] is None
    assert client.get("/api/v1/cameras").status_code == 401


def test_town_narrows_the_layer(client: TestClient, cameras: Path, auth: dict[str, str]) -> None:
    town = client.get("/api/v1/cameras", headers=auth, params={"town": "T"}).json()
    assert len(town["features"]) == 2
    elsewhere = client.get("/api/v1/cameras", headers=auth, params={"town": "X"}).json()
    assert elsewhere["features"] == []


def test_a_cameras_card_lists_its_open_incidents_the_caller_may_see(
        client: TestClient, cameras: Path, auth: dict[str, str], db_session: Session,
        token_for: TokenFor) -> None:
    seen = _report(client, auth, 1, 120.402, 30.902)  # T-A-1, at the west camera
    closed = _report(client, auth, 2, 120.402, 30.902)
    other = _report(client, auth, 3, 120.418, 30.918)  # T-B-2, at the east camera
    _report(client, auth, 4, 120.403, 30.903)  # no camera
    db_session.execute(update(Incident).where(Incident.id.in_([seen, closed]))
                       .values(camera_code=WEST))
    db_session.execute(update(Incident).where(Incident.id == closed).values(status="closed"))
    db_session.execute(update(Incident).where(Incident.id == other).values(camera_code=EAST))
    db_session.commit()
    card = client.get(f"/api/v1/cameras/{WEST}", headers=auth)
    assert card.status_code == 200
    props = card.json()["properties"]
    assert props["name"] == "西村路口"
    assert [(i["id"], i["status"], i["category"]) for i in props["open_items"]] == [
        (seen, "dispatched", "GARBAGE")]
    assert props["open_items"][0]["deadline"] in ("green", "yellow", "red")
    # a grid worker of the other village sees the camera, not the incident
    east_worker = token_for("grid_worker", "T-B-2")
    assert client.get(f"/api/v1/cameras/{WEST}", headers=east_worker).json()[
        "properties"]["open_items"] == []
    east_items = client.get(f"/api/v1/cameras/{EAST}", headers=east_worker).json()
    assert [i["id"] for i in east_items["properties"]["open_items"]] == [other]
    missing = client.get("/api/v1/cameras/32050900001320009999", headers=auth)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_the_ogc_collection(client: TestClient, cameras: Path, auth: dict[str, str]) -> None:
    body = client.get("/ogc/collections/cameras/items", headers=auth,
                      params={"device_type": "131"}).json()
    assert [f["id"] for f in body["features"]] == [EAST]
    item = client.get(f"/ogc/collections/cameras/items/{WEST}", headers=auth).json()
    assert item["properties"]["ptz"] == "dome" and item["geometry"]["type"] == "Point"
    extent = client.get("/ogc/collections/cameras", headers=auth).json()["extent"]
    assert extent["spatial"]["bbox"] == [[120.402, 30.902, 120.418, 30.918]]


def _tile(client: TestClient, z: int, x: int, y: int, auth: dict[str, str]) -> Response:
    return client.get(f"/tiles/cameras/{z}/{x}/{y}.pbf", headers=auth)


def test_the_tile_layer(client: TestClient, cameras: Path, auth: dict[str, str]) -> None:
    found: list[dict[str, Any]] = []
    for x, y in town_tiles(13):
        found += features(_tile(client, 13, x, y, auth), "cameras")
    by_code = {f["properties"]["code"]: f for f in found}
    assert by_code[WEST]["properties"] == {"code": WEST, "name": "西村路口",
                                           "device_type": "132", "direction": 90.0,
                                           "ptz_type": 1}
    assert by_code[EAST]["geometry"]["type"] == "Point"
    assert "direction" not in by_code[EAST]["properties"]  # unknown: no property


def test_a_new_import_makes_new_tiles(client: TestClient, cameras: Path, auth: dict[str, str],
                                      db_session: Session, tmp_path: Path) -> None:
    (x, y), *_ = town_tiles(10)
    before = _tile(client, 10, x, y, auth)
    assert before.status_code == 200
    more = write_cameras(tmp_path, [["32050900001320000020", "新增", "120.41", "30.91", "",
                                     "", ""]], "more.csv")
    assert run_import(db_session, "cameras", more).accepted
    db_session.commit()
    after = _tile(client, 10, x, y, auth)
    assert after.headers["etag"] != before.headers["etag"]
    assert len(features(after, "cameras")) == 3
