"""GET /api/v1/exports/{layer}.{fmt}: every layer in every format reads back with GDAL with the
same features and attributes, and an edited grid package imports again."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import X1, Y1, grid_features, write_geojson

FORMATS = ("gpkg", "geojson", "csv")
# the columns each layer's export shares with the file it was imported from
SHARED = {
    "grids": ("code", "name", "kind", "level", "parent_code", "households"),
    "districts": ("code", "name", "squad_code", "squad_name"),
    "zones": ("code", "name", "level"),
    "projects": ("code", "name", "status", "department"),
    "stations": ("code", "name", "grid_code"),
}


def download(client: TestClient, headers: dict[str, str], name: str, folder: Path,
             **params: Any) -> Path:
    response = client.get(f"/api/v1/exports/{name}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert f'filename="{name}"' in response.headers["content-disposition"]
    path = folder / name
    path.write_bytes(response.content)
    return path


def read_back(path: Path) -> list[tuple[dict[str, Any], BaseGeometry | None]]:
    """Rows (attributes, geometry) as GDAL reads the file; CSV geometry from lon/lat or WKT."""
    meta, _, wkb, columns = pyogrio.raw.read(path)
    names = list(meta["fields"])
    rows = [dict(zip(names, (c[i] for c in columns), strict=True))
            for i in range(len(columns[0]) if columns else 0)]
    if path.suffix != ".csv":
        return list(zip(rows, shapely.from_wkb(wkb), strict=True))
    if "lon" in names:
        return [(r, shapely.Point(float(r["lon"]), float(r["lat"])) if r["lon"] else None)
                for r in rows]
    return [(r, shapely.from_wkt(r["wkt"])) for r in rows]


def plain(value: Any) -> str | None:
    """A value as text, whatever type the format gave it (CSV: text; empty = null)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def source_features(town: dict[str, Path], layer: str) -> dict[str, dict[str, Any]]:
    """The features of the file the test town imported for `layer`, by code."""
    collection = json.loads(town[layer].read_text(encoding="utf-8"))
    return {f["properties"]["code"]: f for f in collection["features"]}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", list(SHARED))
def test_export_reads_back_with_the_same_features(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], tmp_path: Path,
        layer: str, fmt: str) -> None:
    rows = read_back(download(client, auth, f"{layer}.{fmt}", tmp_path))
    source = source_features(town, layer)
    assert sorted(str(r["code"]) for r, _ in rows) == sorted(source)
    for row, geometry in rows:
        feature = source[str(row["code"])]
        for column in SHARED[layer]:
            assert plain(row[column]) == plain(feature["properties"].get(column)), column
        want = shapely.geometry.shape(feature["geometry"])
        assert geometry is not None and geometry.equals(want), row["code"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_incident_export_reads_back(client: TestClient, town: dict[str, Path],
                                    auth: dict[str, str], incidents: list[dict[str, Any]],
                                    tmp_path: Path, fmt: str) -> None:
    rows = read_back(download(client, auth, f"incidents.{fmt}", tmp_path))
    made = {str(i["id"]): i for i in incidents}
    assert sorted(plain(r["id"]) or "" for r, _ in rows) == sorted(made)
    for row, geometry in rows:
        incident = made[str(plain(row["id"]))]
        for column in ("status", "source", "external_id", "category", "grid3", "district",
                       "address"):
            assert plain(row[column]) == plain(incident[column]), column
        assert plain(row["assignee_code"]) == incident["assignee"]["code"]
        assert geometry is not None
        assert (geometry.x, geometry.y) == pytest.approx((incident["lon"], incident["lat"]))


def test_incident_export_is_scoped(client: TestClient, town: dict[str, Path],
                                   incidents: list[Any], token_for: Any,
                                   tmp_path: Path) -> None:
    worker = token_for("grid_worker", "T-A-1")
    rows = read_back(download(client, worker, "incidents.gpkg", tmp_path))
    assert [r["grid3"] for r, _ in rows] == ["T-A-1"]


def test_grids_at_a_past_time(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                              db_session: Session, tmp_path: Path) -> None:
    between = datetime.now(UTC)
    renamed = copy.deepcopy(grid_features())
    renamed[3]["properties"]["name"] = "改名"
    report = run_import(db_session, "grids", write_geojson(tmp_path / "r.geojson", renamed))
    assert report.accepted, report.lines()
    db_session.commit()
    code = renamed[3]["properties"]["code"]
    now = {r["code"]: r["name"] for r, _ in read_back(download(client, auth, "grids.csv",
                                                                 tmp_path))}
    assert now[code] == "改名"
    (tmp_path / "then").mkdir()
    then = {r["code"]: r["name"] for r, _ in read_back(download(
        client, auth, "grids.csv", tmp_path / "then", at=between.isoformat()))}
    assert then[code] == grid_features()[3]["properties"]["name"]
    (tmp_path / "never").mkdir()
    assert read_back(download(client, auth, "grids.gpkg", tmp_path / "never",
                              at="2001-01-01T00:00:00")) == []


def test_unknown_layer_or_format_and_no_token(client: TestClient, town: dict[str, Path],
                                              auth: dict[str, str]) -> None:
    for name in ("roads.gpkg", "grids.shp", "grids"):
        assert client.get(f"/api/v1/exports/{name}", headers=auth).status_code == 404, name
    response = client.get("/api/v1/exports/grids.gpkg")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def _move(geometry: BaseGeometry, old: tuple[float, float],
          new: tuple[float, float]) -> BaseGeometry:
    def shift(xy: np.ndarray) -> np.ndarray:
        hit = (xy[:, 0] == old[0]) & (xy[:, 1] == old[1])
        xy[hit] = new
        return xy
    return shapely.transform(geometry, shift)


def test_exported_package_edited_imports_again(client: TestClient, town: dict[str, Path],
                                               auth: dict[str, str], db_session: Session,
                                               tmp_path: Path) -> None:
    exported = download(client, auth, "grids.gpkg", tmp_path)
    unchanged = run_import(db_session, "grids", exported)
    assert unchanged.accepted and unchanged.counts["unchanged"] == 8, unchanged.lines()

    # move the town's middle vertex in every grid that has it, and rename one grid
    meta, _, wkb, columns = pyogrio.raw.read(exported)
    fields = list(meta["fields"])
    moved = [_move(g, (X1, Y1), (X1 + 0.002, Y1 + 0.001)) for g in shapely.from_wkb(wkb)]
    names = columns[fields.index("name")]
    codes = list(columns[fields.index("code")])
    names[codes.index("T-B-2")] = "东村二组(调整)"
    edited = tmp_path / "edited.gpkg"
    pyogrio.raw.write(edited, shapely.to_wkb(np.array(moved, dtype=object)), columns, fields,
                      layer="grids", driver="GPKG", crs=meta["crs"],
                      geometry_type="MultiPolygon")

    report = run_import(db_session, "grids", edited)
    assert report.accepted, report.lines()
    assert report.counts == {"new": 0, "changed": 6, "unchanged": 2}
    db_session.commit()
    grid = client.get("/api/v1/grids/T-B-2", headers=auth).json()
    assert grid["properties"]["name"] == "东村二组(调整)"
    corners = shapely.geometry.shape(client.get("/api/v1/grids/T-A-1", headers=auth)
                                     .json()["geometry"])
    assert corners.boundary.distance(shapely.Point(X1 + 0.002, Y1 + 0.001)) < 1e-7


def test_an_exported_package_edited_in_a_desktop_gis_imports_as_a_plan(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        tmp_path: Path) -> None:
    exported = download(client, auth, "grids.gpkg", tmp_path)
    meta, _, wkb, columns = pyogrio.raw.read(exported)
    moved = [_move(g, (X1, Y1), (X1 + 0.002, Y1 + 0.001)) for g in shapely.from_wkb(wkb)]
    edited = tmp_path / "edited.gpkg"
    pyogrio.raw.write(edited, shapely.to_wkb(np.array(moved, dtype=object)), columns,
                      list(meta["fields"]), layer="grids", driver="GPKG", crs=meta["crs"],
                      geometry_type="MultiPolygon")
    with edited.open("rb") as handle:
        answer = client.post("/api/v1/plans/import", headers=auth,
                             files={"file": ("edited.gpkg", handle, "application/octet-stream")},
                             data={"name": "桌面GIS调整", "note": "QGIS 中移动了中心点"})
    assert answer.status_code == 201, answer.text
    plan = answer.json()
    validation = client.get(f"/api/v1/plans/{plan['id']}/validation", headers=auth).json()
    assert validation["valid"], validation["problems"]
    grids = client.get(f"/api/v1/plans/{plan['id']}/grids", headers=auth).json()["features"]
    changed = {g["properties"]["code"] for g in grids if g["properties"]["changed"]}
    assert len(grids) == 8 and len(changed) == 6
    impact = client.get(f"/api/v1/plans/{plan['id']}/impact", headers=auth)
    assert impact.status_code == 200
