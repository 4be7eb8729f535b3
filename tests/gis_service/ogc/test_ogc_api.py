"""OGC API – Features at /ogc/: documents, items, paging, filters, CRS, time and scope."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.grids.models import GridVersion
from gis_service.imports.service import run_import
from tests.town import grid_features, ring, write_geojson

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
COLLECTIONS = ["grids", "districts", "zones", "projects", "stations", "cameras", "incidents"]


def get(client: TestClient, auth: dict[str, str], path: str, **params: Any) -> Any:
    response = client.get(f"/ogc{path}", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response


def items(client: TestClient, auth: dict[str, str], collection: str, **params: Any) -> Any:
    return get(client, auth, f"/collections/{collection}/items", **params).json()


def ids(body: dict[str, Any]) -> list[Any]:
    return [f["id"] for f in body["features"]]


def test_landing_page_conformance_and_api_are_open(client: TestClient) -> None:
    landing = client.get("/ogc/")
    assert landing.status_code == 200 and landing.headers["content-type"] == "application/json"
    links = {link["rel"]: link for link in landing.json()["links"]}
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["service-desc"]["href"].endswith("/ogc/api")
    assert {"self", "conformance", "data"} <= set(links)
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in classes
    assert client.get("/ogc").status_code == 200


def test_openapi_document_declares_geojson_and_parameters(client: TestClient) -> None:
    response = client.get("/ogc/api")
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    assert document["openapi"].startswith("3.0")
    for collection in COLLECTIONS:
        get_items = document["paths"][f"/collections/{collection}/items"]["get"]
        assert "application/geo+json" in get_items["responses"]["200"]["content"]
    grids = document["paths"]["/collections/grids/items"]["get"]["parameters"]
    by_name = {p["name"]: p for p in grids}
    assert {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "level", "kind",
            "parent_code"} <= set(by_name)
    assert by_name["limit"]["schema"]["maximum"] == 10_000
    incidents = document["paths"]["/collections/incidents/items"]["get"]["parameters"]
    assert {"status", "category", "grid3"} <= {p["name"] for p in incidents}


def test_collections_need_a_principal(client: TestClient, town: dict[str, Path]) -> None:
    for path in ("/ogc/collections", "/ogc/collections/grids",
                 "/ogc/collections/grids/items", "/ogc/collections/grids/items/T"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"


def test_collections_list_crs_and_extent(client: TestClient, town: dict[str, Path],
                                         auth: dict[str, str]) -> None:
    body = get(client, auth, "/collections").json()
    assert [c["id"] for c in body["collections"]] == COLLECTIONS
    for collection in body["collections"]:
        assert collection["itemType"] == "feature"
        assert collection["crs"] == [CRS84, EPSG4490]
        assert collection["storageCrs"] == EPSG4490
        assert any(link["rel"] == "items" and link["type"] == "application/geo+json"
                   for link in collection["links"])
    grids = get(client, auth, "/collections/grids").json()
    assert grids["extent"]["spatial"]["bbox"] == [[120.40, 30.90, 120.42, 30.92]]
    assert grids["extent"]["temporal"]["interval"][0][1] is None  # current versions go on
    assert client.get("/ogc/collections/nope", headers=auth).status_code == 404


def test_items_page_has_counts_links_and_crs_header(client: TestClient, town: dict[str, Path],
                                                     auth: dict[str, str]) -> None:
    response = get(client, auth, "/collections/grids/items", limit=3)
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["content-crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"]) == (8, 3)
    assert datetime.fromisoformat(body["timeStamp"]).tzinfo is not None
    rels = {link["rel"] for link in body["links"]}
    assert rels == {"self", "next", "collection"}
    assert ids(body) == ["S-SCHOOL", "T", "T-A"]


def test_paging_walks_next_to_the_end_without_duplicates(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    seen: list[str] = []
    url: str | None = "/ogc/collections/grids/items?limit=3&level=3"
    pages = 0
    while url:
        body = client.get(url, headers=auth).json()
        seen += ids(body)
        pages += 1
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (pages > 1)
        url = links.get("next")
    assert pages == 2
    assert seen == ["T-A-1", "T-A-2", "T-B-1", "T-B-2"]


def test_limit_default_clamp_and_bad_values(client: TestClient, town: dict[str, Path],
                                            auth: dict[str, str]) -> None:
    assert items(client, auth, "grids")["numberReturned"] == 8  # default 100
    clamped = items(client, auth, "grids", limit=50_000)
    assert "limit=10000" in clamped["links"][0]["href"]
    for params in ({"limit": 0}, {"limit": "x"}, {"offset": -1}, {"colour": "red"},
                   {"bbox": "1,2,3"}, {"bbox": "120.42,30.9,120.40,30.92"},
                   {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
                   {"level": "two"}):
        response = client.get("/ogc/collections/grids/items", params=params, headers=auth)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"
    twice = client.get("/ogc/collections/grids/items?level=2&level=3", headers=auth)
    assert twice.status_code == 400
    assert client.get("/ogc/collections?x=1", headers=auth).status_code == 400


def test_property_filters(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                          incidents: list[Any]) -> None:
    assert ids(items(client, auth, "grids", level=2)) == ["T-A", "T-B"]
    assert ids(items(client, auth, "grids", kind="education")) == ["S-SCHOOL"]
    assert ids(items(client, auth, "grids", parent_code="T-B")) == ["T-B-1", "T-B-2"]
    assert ids(items(client, auth, "zones", level=1)) == ["Z1"]
    assert ids(items(client, auth, "districts", squad_code="Q2")) == ["D2"]
    building = items(client, auth, "incidents", category="BUILDING")
    assert [f["properties"]["grid3"] for f in building["features"]] == ["T-B-1"]
    assert items(client, auth, "incidents", grid3="T-A-1", status="dispatched")[
        "numberMatched"] == 1


def test_bbox_in_either_crs(client: TestClient, town: dict[str, Path],
                            auth: dict[str, str]) -> None:
    lonlat = items(client, auth, "grids", level=3, bbox="120.401,30.901,120.402,30.902")
    assert ids(lonlat) == ["T-A-1"]
    latlon = items(client, auth, "grids", level=3, bbox="30.901,120.401,30.902,120.402",
                   **{"bbox-crs": EPSG4490})
    assert ids(latlon) == ["T-A-1"]
    six = items(client, auth, "grids", level=3, bbox="120.401,30.901,0,120.402,30.902,10")
    assert ids(six) == ["T-A-1"]


def test_epsg_4490_is_latitude_first(client: TestClient, town: dict[str, Path],
                                     auth: dict[str, str]) -> None:
    plain = get(client, auth, "/collections/stations/items/ST1").json()
    assert plain["geometry"]["coordinates"] == [120.405, 30.915]
    response = get(client, auth, "/collections/stations/items/ST1", crs=EPSG4490)
    assert response.headers["content-crs"] == f"<{EPSG4490}>"
    assert response.json()["geometry"]["coordinates"] == [30.915, 120.405]
    grids = items(client, auth, "grids", crs=EPSG4490, code="T-A-1")
    lat, lon = grids["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 30.9 <= lat <= 30.92 and 120.4 <= lon <= 120.42


def test_rfc7946_rings_and_no_crs_member(client: TestClient, town: dict[str, Path],
                                         auth: dict[str, str], db_session: Session,
                                         tmp_path: Path) -> None:
    clockwise = ring((120.401, 30.901), (120.401, 30.903), (120.403, 30.903), (120.403, 30.901))
    market = {"type": "Feature", "geometry": clockwise,
              "properties": {"code": "S-MARKET", "name": "菜场", "kind": "market",
                             "level": None, "parent_code": "T"}}
    report = run_import(db_session, "grids", write_geojson(tmp_path / "m.geojson", [market]))
    assert report.accepted, report.lines()
    db_session.commit()
    stored_cw = select(func.ST_IsPolygonCW(GridVersion.geom)).where(GridVersion.code == "S-MARKET")
    assert db_session.scalar(stored_cw)  # stored as drawn: clockwise
    feature = items(client, auth, "grids", code="S-MARKET")["features"][0]
    assert "crs" not in feature["geometry"]
    outer = feature["geometry"]["coordinates"][0][0]
    assert shapely.LinearRing(outer).is_ccw
    for collection in COLLECTIONS:
        for item in items(client, auth, collection)["features"]:
            assert item["geometry"] is None or "crs" not in item["geometry"]


def test_datetime_selects_grid_versions(client: TestClient, town: dict[str, Path],
                                        auth: dict[str, str], db_session: Session,
                                        tmp_path: Path) -> None:
    between = datetime.now(UTC)
    renamed = copy.deepcopy(grid_features())
    for feature in renamed:
        if feature["properties"]["code"] == "T-A-1":
            feature["properties"]["name"] = "西村一组(新)"
    report = run_import(db_session, "grids", write_geojson(tmp_path / "r.geojson", renamed))
    assert report.accepted, report.lines()
    db_session.commit()

    def name_at(**params: Any) -> str:
        found = items(client, auth, "grids", code="T-A-1", **params)["features"]
        return str(found[0]["properties"]["name"])

    assert name_at() == "西村一组(新)"
    assert name_at(datetime=between.isoformat()) == "西村一组"
    one = get(client, auth, "/collections/grids/items/T-A-1", datetime=between.isoformat())
    assert one.json()["properties"]["name"] == "西村一组"
    assert items(client, auth, "grids", datetime="2001-01-01T00:00:00Z")["numberMatched"] == 0
    interval = client.get("/ogc/collections/grids/items", headers=auth,
                          params={"datetime": "2001-01-01T00:00:00Z/.."})
    assert interval.status_code == 400


def test_datetime_interval_on_incidents(client: TestClient, town: dict[str, Path],
                                        auth: dict[str, str], incidents: list[Any]) -> None:
    week = (datetime.now(UTC) - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert items(client, auth, "incidents", datetime=f"{week}/..")["numberMatched"] == 2
    assert items(client, auth, "incidents", datetime=f"../{week}")["numberMatched"] == 2
    assert items(client, auth, "incidents", datetime="../..")["numberMatched"] == 4
    backwards = client.get("/ogc/collections/incidents/items", headers=auth,
                           params={"datetime": f"{week}/2001-01-01T00:00:00Z"})
    assert backwards.status_code == 400
    assert client.get("/ogc/collections/zones/items", headers=auth,
                      params={"datetime": week}).status_code == 400


def test_single_features(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                         incidents: list[Any]) -> None:
    grid = get(client, auth, "/collections/grids/items/T-A").json()
    assert grid["id"] == "T-A" and grid["properties"]["level"] == 2
    assert {link["rel"] for link in grid["links"]} == {"self", "collection"}
    incident = get(client, auth, f"/collections/incidents/items/{incidents[0]['id']}").json()
    assert incident["id"] == incidents[0]["id"]
    assert incident["properties"]["grid3"] == "T-A-1"
    for path in ("/grids/items/NOPE", "/incidents/items/abc", "/incidents/items/999999",
                 "/nope/items/1"):
        assert client.get(f"/ogc/collections{path}", headers=auth).status_code == 404, path


def test_grid_worker_sees_only_its_grid(client: TestClient, town: dict[str, Path],
                                        incidents: list[Any], token_for: Any) -> None:
    worker = token_for("grid_worker", "T-A-1")
    body = items(client, worker, "incidents")
    assert body["numberMatched"] == 1
    assert {f["properties"]["grid3"] for f in body["features"]} == {"T-A-1"}
    other = next(i for i in incidents if i["grid3"] != "T-A-1")
    hidden = client.get(f"/ogc/collections/incidents/items/{other['id']}", headers=worker)
    assert hidden.status_code == 404
    assert items(client, worker, "grids")["numberMatched"] == 8  # boundaries are for all
