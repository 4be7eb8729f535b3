"""What one file or request may carry: too many features or vertices is refused with a clear
message before anything is stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports import readers
from gis_service.imports.readers import UnreadableInputError, read_vector
from gis_service.imports.service import run_import
from grid_layers.hierarchy import MAX_VERTICES_PER_GEOMETRY
from tests.town import collection, grid_features


def dense_circle(lon: float, lat: float, radius: float) -> shapely.Polygon:
    """A circle with one vertex more than a geometry may have."""
    turn = np.linspace(0, 2 * np.pi, MAX_VERTICES_PER_GEOMETRY + 1)
    ring = np.column_stack([lon + radius * np.cos(turn), lat + radius * np.sin(turn)])
    ring[-1] = ring[0]
    return shapely.Polygon(ring)


def test_a_geometry_with_too_many_vertices_is_refused(db_session: Session,
                                                      tmp_path: Path) -> None:
    features = grid_features()
    circle = dense_circle(120.41, 30.91, 0.005)
    features[-1]["geometry"] = mapping(circle)
    path = tmp_path / "dense.geojson"
    path.write_text(json.dumps(collection(features)), encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="vertices"):
        read_vector(path, None)
    with pytest.raises(UnreadableInputError):
        run_import(db_session, "grids", path)
    assert db_session.scalar(text("SELECT count(*) FROM grid_version")) == 0


def test_a_file_with_too_many_features_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "town.geojson"
    path.write_text(json.dumps(collection(grid_features())), encoding="utf-8")
    monkeypatch.setattr(readers, "MAX_FEATURES_PER_FILE", 5)
    with pytest.raises(UnreadableInputError, match="8 features, more than the 5"):
        read_vector(path, None)


def test_a_plan_grid_with_too_many_vertices_is_422(client: TestClient, town: dict[str, Path],
                                                   auth: dict[str, str]) -> None:
    plan = client.post("/api/v1/plans", headers=auth, json={"name": "密"}).json()
    circle = dense_circle(120.405, 30.905, 0.002)
    answer = client.put(f"/api/v1/plans/{plan['id']}/grids/T-A-1",
                        headers={**auth, "If-Match": f'"{plan["version"]}"'},
                        json={"type": "Feature", "geometry": mapping(circle), "properties": {
                            "name": "西村一组", "level": 3, "kind": "comprehensive",
                            "parent_code": "T-A"}})
    assert answer.status_code == 422 and "顶点超过 200,000 个" in answer.json()["detail"]
