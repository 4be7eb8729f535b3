"""A latitude sent as the longitude and the other way round is refused with a 422 that says the
two look swapped (GET /locate, a report's location, an action's location), in the usual
problem+json shape; other points out of range keep their plain refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from grid_layers.wording import swapped_coordinates

Headers = dict[str, str]
HINT = "经纬度可能写反了：lon=30.905, lat=120.402"


def refused(response: Response, where: str) -> str:
    """The 422's detail, after checking the problem's shape."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "Invalid input" and body["status"] == 422
    assert [e["loc"][: len(where.split("."))] for e in body["errors"]] == [where.split(".")]
    return str(body["detail"])


@pytest.mark.parametrize(("lon", "lat", "swapped"), [
    (30.905, 120.402, True),   # a point of the town, swapped
    (54.0, 73.0, True),        # the corners of China's box, swapped
    (18.2, 135.0, True),
    (120.402, 30.905, False),  # the right way round
    (2.35, 48.85, False),      # Paris: outside China either way
    (30.91, 60.0, False),      # lat 60 is no longitude of China
    (-30.9, -120.4, False),
])
def test_the_rule(lon: float, lat: float, swapped: bool) -> None:
    hint = swapped_coordinates(lon, lat)
    assert (hint is not None) == swapped
    if swapped:
        assert hint == f"经纬度可能写反了：lon={lon}, lat={lat}"


def test_locate_says_the_coordinates_look_swapped(client: TestClient, town: dict[str, Path],
                                                  auth: Headers) -> None:
    response = client.get("/api/v1/locate", headers=auth,
                          params={"lon": 30.905, "lat": 120.402})
    assert refused(response, "query.lon") == f"query.lon: {HINT}"
    right = client.get("/api/v1/locate", headers=auth, params={"lon": 120.402, "lat": 30.905})
    assert right.status_code == 200 and right.json()["grid3"]["code"] == "T-A-1"


@pytest.mark.parametrize(("params", "field"), [
    ({"lon": 200.0, "lat": 30.9}, "lon"), ({"lon": 120.4, "lat": -95.0}, "lat"),
    ({"lon": "nan", "lat": 30.9}, "lon"), ({"lon": 10.0, "lat": 170.0}, "lat"),
])
def test_locate_refuses_points_out_of_range(client: TestClient, town: dict[str, Path],
                                            auth: Headers, params: dict[str, object],
                                            field: str) -> None:
    detail = refused(client.get("/api/v1/locate", headers=auth, params=params),
                     f"query.{field}")
    assert "写反" not in detail and "between" in detail


def test_a_report_with_swapped_coordinates_is_refused_and_nothing_stored(
        client: TestClient, town: dict[str, Path], auth: Headers, db_session: Session) -> None:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "grid_patrol", "external_id": "swapped", "category": "GARBAGE",
        "location": {"lon": 30.905, "lat": 120.402, "crs": "gcj02"}})
    # the intake reads its body itself (group commit): the field is named from the body's root
    assert refused(response, "location") == f"location: {HINT}"
    assert db_session.scalar(text("SELECT count(*) FROM incident")) == 0


def test_an_action_placing_with_swapped_coordinates_is_refused(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    made = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": "no-place", "category": "GARBAGE",
        "description": "没有坐标"})
    assert made.status_code == 201, made.text
    incident = made.json()
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**auth, "If-Match": f'"{incident["version"]}"'},
                           json={"action": "dispatch", "location": {"lon": 30.905,
                                                                    "lat": 120.402}})
    assert refused(response, "body.location") == f"body.location: {HINT}"
    again = client.get(f"/api/v1/incidents/{incident['id']}", headers=auth).json()
    assert again["version"] == incident["version"] and again["lon"] is None
