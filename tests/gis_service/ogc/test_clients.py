"""Real clients against the live service: GDAL's OAPIF driver (pyogrio) and OWSLib."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import owslib.ogcapi
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from owslib.ogcapi.features import Features

from tests.gis_service.ogc import gdal_client

COLLECTIONS = ["grids", "districts", "zones", "projects", "stations", "cameras", "incidents"]


@pytest.fixture()
def header_file(tmp_path: Path, auth: dict[str, str]) -> Path:
    """The admin's Authorization header in a file, for GDAL_HTTP_HEADER_FILE."""
    path = tmp_path / "headers.txt"
    path.write_text(f"Authorization: {auth['Authorization']}\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def own_owslib_headers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """OWSLib adds the headers it is given to a module-level dict: keep tokens to this test."""
    monkeypatch.setattr(owslib.ogcapi, "REQUEST_HEADERS", dict(owslib.ogcapi.REQUEST_HEADERS))
    yield


def expected(client: TestClient, auth: dict[str, str]) -> dict[str, dict[Any, Any]]:
    """Every collection's features, by id, as the service gives them in CRS84."""
    features = {}
    for name in COLLECTIONS:
        body = client.get(f"/ogc/collections/{name}/items", params={"limit": 10_000},
                          headers=auth).json()
        features[name] = {f["id"]: f for f in body["features"]}
    return features


def _same_shapes(read: dict[str, Any], features: dict[Any, Any], keys: list[Any]) -> None:
    for key, wkt in zip(keys, read["wkt"], strict=True):
        want = shapely.geometry.shape(features[key]["geometry"])
        got = shapely.from_wkt(wkt)
        assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(want),
                                    tolerance=1e-9), key


def _keys(name: str, read: dict[str, Any]) -> list[Any]:
    if name == "incidents":  # integer ids become GDAL's feature ids
        return list(read["fids"])
    return [row["id"] for row in read["rows"]]


def test_gdal_oapif_driver_is_there() -> None:
    assert "OAPIF" in pyogrio.list_drivers()


def test_gdal_reads_every_feature_of_every_collection(
        live_server: str, client: TestClient, town: dict[str, Path], auth: dict[str, str],
        incidents: list[Any], header_file: Path) -> None:
    # a small page size makes GDAL follow the `next` links; GDAL picks the storage CRS
    # (EPSG:4490, latitude first) by itself and must still end up with lon/lat
    read = gdal_client.run(f"{live_server}/ogc", header_file, PAGE_SIZE="3")
    features = expected(client, auth)
    assert list(read) == COLLECTIONS
    for name in COLLECTIONS:
        keys = _keys(name, read[name])
        assert sorted(keys) == sorted(features[name]) and len(set(keys)) == len(keys), name
        assert "4490" in read[name]["crs"]
        _same_shapes(read[name], features[name], keys)
    grids = {row["id"]: row for row in read["grids"]["rows"]}
    assert grids["T-A-1"]["name"] == "西村一组" and grids["T-A-1"]["parent_code"] == "T-A"
    assert {row["grid3"] for row in read["incidents"]["rows"]} == \
        {i["grid3"] for i in incidents}


def test_gdal_in_crs84(live_server: str, client: TestClient, town: dict[str, Path],
                       auth: dict[str, str], header_file: Path) -> None:
    read = gdal_client.run(f"{live_server}/ogc", header_file, CRS="OGC:CRS84")
    features = expected(client, auth)
    for name in ("grids", "stations", "projects"):
        assert "CRS84" in read[name]["crs"]
        _same_shapes(read[name], features[name], _keys(name, read[name]))


def test_owslib_lists_collections_and_reads_items(
        live_server: str, town: dict[str, Path], auth: dict[str, str],
        incidents: list[Any]) -> None:
    api = Features(f"{live_server}/ogc/", headers=auth)
    assert api.feature_collections() == COLLECTIONS
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in \
        api.conformance()["conformsTo"]
    grids = api.collection("grids")
    assert grids["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/4490"
    page = api.collection_items("grids", limit=5, level=3)
    assert (page["numberMatched"], page["numberReturned"]) == (4, 4)
    assert [f["id"] for f in page["features"]] == ["T-A-1", "T-A-2", "T-B-1", "T-B-2"]
    assert api.collection_item("stations", "ST1")["properties"]["grid_code"] == "T-A"
    document = api.api()
    responses = document["paths"]["/collections/grids/items"]["get"]["responses"]
    assert "application/geo+json" in responses["200"]["content"]


def test_owslib_grid_worker_sees_its_grid_only(
        live_server: str, town: dict[str, Path], incidents: list[Any], token_for: Any) -> None:
    api = Features(f"{live_server}/ogc/", headers=token_for("grid_worker", "T-A-1"))
    page = api.collection_items("incidents", limit=100)
    assert page["numberMatched"] == 1
    assert {f["properties"]["grid3"] for f in page["features"]} == {"T-A-1"}
