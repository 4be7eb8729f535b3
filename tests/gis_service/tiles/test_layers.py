"""Map-layer tiles: grids, districts, zones, projects and stations of the test town, their
cache headers, 304s, and new tiles once the data changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.context import app_context
from gis_service.imports.service import run_import
from tests.gis_service.tiles.conftest import TileGetter, features, town_tiles

Collect = Callable[..., list[dict[str, Any]]]


def by_code(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in found}


def test_grid_tiles_carry_the_current_grids_with_their_properties(
        town: dict[str, Path], auth: dict[str, str], town_features: Collect) -> None:
    grids = by_code(town_features("grids", 13, auth))
    assert set(grids) == {"T", "T-A", "T-B", "T-A-1", "T-A-2", "T-B-1", "T-B-2", "S-SCHOOL"}
    assert grids["T-A-1"] == {"code": "T-A-1", "name": "西村一组", "level": 3,
                              "kind": "comprehensive", "parent_code": "T-A"}
    assert grids["S-SCHOOL"]["kind"] == "education" and "level" not in grids["S-SCHOOL"]
    assert "parent_code" not in grids["T"]  # no parent: no property


def test_grid_polygons_are_in_tile_coordinates(town: dict[str, Path], auth: dict[str, str],
                                                get_tile: TileGetter) -> None:
    (x, y), *_ = town_tiles(10)  # the whole town in one tile
    found = features(get_tile("grids", 10, x, y, auth), "grids")
    town_grid = next(f for f in found if f["properties"]["code"] == "T")
    assert town_grid["geometry"]["type"] == "Polygon"
    ring = town_grid["geometry"]["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    # 0.02° at zoom 10 is 0.02 / (360 / 1024) of a tile: ~233 of its 4096 units
    assert 220 <= max(xs) - min(xs) <= 245 and min(xs) >= 0 and max(ys) <= 4096


@pytest.mark.parametrize(("layer", "code", "expected"), [
    ("districts", "D1", {"code": "D1", "name": "南片区", "squad_code": "Q1",
                         "squad_name": "一中队"}),
    ("zones", "Z1", {"code": "Z1", "name": "太湖一级保护区", "level": 1}),
    ("projects", "P2", {"code": "P2", "name": "渔港改造", "status": "building",
                        "department": "JS"}),
    ("stations", "ST1", {"code": "ST1", "name": "西村便民服务站", "grid_code": "T-A"}),
])
def test_place_tiles_carry_their_properties(town: dict[str, Path], auth: dict[str, str],
                                            town_features: Collect, layer: str, code: str,
                                            expected: dict[str, Any]) -> None:
    assert by_code(town_features(layer, 13, auth))[code] == expected


def test_layer_tiles_are_public_with_an_etag_and_answer_304(
        town: dict[str, Path], auth: dict[str, str], get_tile: TileGetter) -> None:
    (x, y), *_ = town_tiles(10)
    first = get_tile("grids", 10, x, y, auth)
    assert first.status_code == 200
    assert first.headers["cache-control"].startswith("public, max-age=")
    etag = first.headers["etag"]
    again = get_tile("grids", 10, x, y, {**auth, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert get_tile("grids", 10, x, y, {**auth, "If-None-Match": '"other"'}).status_code == 200


def test_a_made_layer_tile_is_kept_in_memory(client: TestClient, town: dict[str, Path],
                                             auth: dict[str, str],
                                             get_tile: TileGetter) -> None:
    (x, y), *_ = town_tiles(10)
    body = get_tile("zones", 10, x, y, auth).content
    stamps = app_context(client.app).tiles.stamps.current()  # type: ignore[arg-type]
    cached = app_context(client.app).tiles.cache.get(  # type: ignore[arg-type]
        ("zones", 10, x, y, stamps["zones"]))
    assert cached == body


def test_an_import_changes_the_tiles_and_their_etag(
        town: dict[str, Path], auth: dict[str, str], get_tile: TileGetter,
        db_session: Session, tmp_path: Path) -> None:
    (x, y), *_ = town_tiles(10)
    before = get_tile("districts", 10, x, y, auth)
    collection = json.loads(town["districts"].read_text(encoding="utf-8"))
    collection["features"][0]["properties"]["name"] = "南片区（新）"
    changed = tmp_path / "districts.geojson"
    changed.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    assert run_import(db_session, "districts", changed).accepted
    db_session.commit()
    after = get_tile("districts", 10, x, y, {**auth, "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert by_code(features(after, "districts"))["D1"]["name"] == "南片区（新）"


def test_a_new_grid_version_changes_the_grid_tiles(
        town: dict[str, Path], auth: dict[str, str], get_tile: TileGetter,
        db_session: Session, tmp_path: Path) -> None:
    (x, y), *_ = town_tiles(10)
    before = get_tile("grids", 10, x, y, auth).headers["etag"]
    collection = json.loads(town["grids"].read_text(encoding="utf-8"))
    for feature in collection["features"]:
        if feature["properties"]["code"] == "T-B-2":
            feature["properties"]["name"] = "东村二组（新）"
    changed = tmp_path / "grids.geojson"
    changed.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    assert run_import(db_session, "grids", changed).accepted
    db_session.commit()
    after = get_tile("grids", 10, x, y, auth)
    assert after.headers["etag"] != before
    assert by_code(features(after, "grids"))["T-B-2"]["name"] == "东村二组（新）"


def test_an_empty_tile_answers_204(town: dict[str, Path], auth: dict[str, str],
                                   get_tile: TileGetter) -> None:
    response = get_tile("stations", 13, 0, 0, auth)
    assert response.status_code == 204 and response.content == b""
    assert "etag" in response.headers


@pytest.mark.parametrize(("path", "status"), [
    ("/tiles/roads/10/854/419.pbf", 404), ("/tiles/grids/23/0/0.pbf", 422),
    ("/tiles/grids/3/8/0.pbf", 422), ("/tiles/grids/3/0/-1.pbf", 422),
    ("/tiles/grids/3/a/0.pbf", 422),
])
def test_unknown_collections_and_tiles_outside_the_matrix_are_problems(
        client: TestClient, auth: dict[str, str], path: str, status: int) -> None:
    response = client.get(path, headers=auth)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_tiles_need_an_account(client: TestClient) -> None:
    response = client.get("/tiles/grids/10/854/419.pbf")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
