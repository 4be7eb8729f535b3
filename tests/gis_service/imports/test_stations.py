"""Village service stations: points inside the grid they name."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import write_geojson


def _station(code: str, lon: float, lat: float, grid: str) -> dict[str, object]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"code": code, "name": f"{code}服务站", "grid_code": grid}}


def test_stations_are_served(client: TestClient, town: dict[str, Path],
                             auth: dict[str, str]) -> None:
    body = client.get("/api/v1/stations", headers=auth).json()
    assert [f["properties"]["code"] for f in body["features"]] == ["ST1"]
    assert body["features"][0]["properties"]["grid_code"] == "T-A"
    assert body["features"][0]["geometry"]["type"] == "Point"


def test_a_station_outside_its_grid_or_in_no_grid_is_refused(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "s.geojson", [
        _station("ST2", 120.415, 30.915, "T-A"),  # lies in T-B
        _station("ST3", 120.405, 30.905, "NOPE"),
        _station("ST4", 120.405, 30.905, "T-A")])
    report = run_import(db_session, "stations", path)
    assert not report.accepted
    assert sorted((p.type, p.grids) for p in report.problems) == [
        ("orphan", ("ST3",)), ("outside_parent", ("ST2",))]
    stored = db_session.scalar(text("SELECT count(*) FROM station"))
    assert stored == 1  # only the town's own station; the rejected file stored nothing
