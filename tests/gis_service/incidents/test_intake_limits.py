"""Intake refuses coordinates that cannot be a Chinese town's (swapped, projected or far off)
with a 422 that says so, and stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.85), (30.91, 60.0), (-120.4, 30.9)])
def test_coordinates_outside_china_are_refused(client: TestClient, town: dict[str, Path],
                                               auth: dict[str, str], db_session: Session,
                                               lon: float, lat: float) -> None:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "grid_patrol", "external_id": "far", "category": "GARBAGE",
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "不在中国境内" in response.json()["detail"]
    assert db_session.scalar(text("SELECT count(*) FROM incident")) == 0


def test_a_point_in_china_outside_the_town_waits_for_a_location(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "grid_patrol", "external_id": "near", "category": "GARBAGE",
        "location": {"lon": 121.0, "lat": 31.5, "crs": "wgs84"}})
    assert response.status_code == 201
    assert response.json()["status"] == "needs_location"
