"""The geocoder against PostGIS: a small gazetteer in the test town, every level, the endpoint.

    开弦弓村 (west, T-A-1)  南环路 1–9号 along y = 30.902, 北环路 1–5号 along y = 30.908,
                            开弦弓小学 by 北环路
    庙港社区 (east, T-B-1)  南环路 1–9号 along y = 30.904, 太湖大道 1–5号, 七都中心小学
    沧浦村   (T-B-2)        3组 1–5号
    浦江源社区 (T-A-2)      东风路 1–3号 imported without parts (address text only)

A second gazetteer (`places`) holds the forms found in the demo town's tickets: villages that
share a name (庙港村, 庙港社区), a village named like the town (七都社区), POIs whose names
open with a village's (七都农贸市场 in 庙港社区), sub-numbers, and a road mouth.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.addresses.models import AddressPoint
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.geocode.normalize import search_key
from gis_service.geocode.service import geocode, poi_names, village_similarity

STEP = 0.0003  # ~29 m between house numbers


def _point(address: str, lon: float, lat: float, village: str | None = None,
           road: str | None = None, number: str | None = None,
           poi: str | None = None) -> AddressPoint:
    return AddressPoint(address=address, village=village, road=road, number=number, poi=poi,
                        attributes={}, geom=f"SRID=4490;POINT({lon} {lat})")


def _road(village: str, road: str, count: int, x0: float, y: float) -> list[AddressPoint]:
    return [_point(f"{village}{road}{n}号", x0 + n * STEP, y, village, road, f"{n}号")
            for n in range(1, count + 1)]


def south_ring(n: int) -> tuple[float, float]:
    """Where 开弦弓村南环路 n号 is."""
    return 120.401 + n * STEP, 30.902


@pytest.fixture()
def gazetteer(db_session: Session) -> None:
    """The small gazetteer of the module docstring, in the test's transaction."""
    points = [
        *_road("开弦弓村", "南环路", 9, 120.401, 30.902),
        *_road("开弦弓村", "北环路", 5, 120.401, 30.908),
        _point("开弦弓村北环路开弦弓小学", 120.4025, 30.9085, "开弦弓村", "北环路",
               poi="开弦弓小学"),
        *_road("庙港社区", "南环路", 9, 120.411, 30.904),
        *_road("庙港社区", "太湖大道", 5, 120.411, 30.906),
        _point("庙港社区太湖大道七都中心小学", 120.4125, 30.9065, "庙港社区", "太湖大道",
               poi="七都中心小学"),
        *_road("沧浦村", "3组", 5, 120.411, 30.915),
        *(_point(f"浦江源社区东风路{n}号", 120.401 + n * STEP, 30.915) for n in (1, 2, 3)),
    ]
    db_session.add_all(points)
    db_session.commit()


def _near(result_lon: float, result_lat: float, lon: float, lat: float) -> bool:
    return abs(result_lon - lon) < 1e-9 and abs(result_lat - lat) < 1e-9


def test_the_search_key_of_sql_and_python_agree(db_session: Session) -> None:
    cases = [
        ("开弦弓村南环路18号", "开弦弓村", "南环路", "18号", None),
        ("x", " 开弦弓 村", "南环路 ", "１８号之二", None),
        ("x", "开弦弓村", "南环路", "018-2号", "开弦弓小学"),
        ("x", None, "3组", "5号", None),
        ("x", "庙港社区", None, None, "七都中心小学（东门）"),
    ]
    for address, village, road, number, poi in cases:
        stored = db_session.scalar(
            text("SELECT address_search_key(:a, :v, :r, :n, :p)"),
            {"a": address, "v": village, "r": road, "n": number, "p": poi})
        assert stored == search_key(village, road, number, poi), (village, road, number, poi)


def test_an_address_without_parts_is_cut_into_words(db_session: Session) -> None:
    key = db_session.scalar(text("SELECT address_search_key(:a, NULL, NULL, NULL, NULL)"),
                            {"a": "江苏省苏州市七都镇开弦弓村南环路０18号"})
    assert key == "江苏省 苏州市 七都镇 开弦弓村 南环路 18"


def test_a_messy_house_address(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "江苏省苏州市吴江区七都镇 开弦弓村南环路五号门口有垃圾")
    assert (result.method, result.matched) == ("house", "开弦弓村南环路5号")
    assert _near(result.lon, result.lat, *south_ring(5))
    assert result.confidence == 1.0
    assert result.candidates[0]["address"] == "开弦弓村南环路5号"


@pytest.mark.parametrize("query", [
    "开弦弓村南环路５号", "开弦弓村 南环路，5 号附近", "七都镇开弦弓村南环路5#",
    "市民反映开弦弓南环路5号噪音扰民",  # the village without 村
])
def test_house_variants(gazetteer: None, db_session: Session, query: str) -> None:
    result = geocode(db_session, query)
    assert (result.method, result.matched) == ("house", "开弦弓村南环路5号")


def test_a_wrong_character_in_the_road(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "开弦弓村南还路5号")
    assert (result.method, result.matched) == ("house", "开弦弓村南环路5号")
    assert 0.5 <= result.confidence < 1.0


def test_an_unknown_number_gives_the_nearest_number_on_the_road(
        gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "开弦弓村南环路99号")
    assert (result.method, result.matched) == ("road", "开弦弓村南环路")
    assert _near(result.lon, result.lat, *south_ring(9))
    assert result.confidence < 1.0


def test_no_number_gives_the_road_point_nearest_its_centre(
        gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "开弦弓村南环路路口")
    assert (result.method, result.matched) == ("road", "开弦弓村南环路")
    assert _near(result.lon, result.lat, *south_ring(5))


def test_a_village_only(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "七都镇开弦弓村附近噪音扰民")
    assert (result.method, result.matched) == ("village", "开弦弓村")
    assert 0.5 <= result.confidence < 0.9
    road = geocode(db_session, "开弦弓村南环路")
    assert road.confidence > result.confidence  # a road is more precise than its village


def test_a_village_with_an_unknown_road(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "开弦弓村银河路8号")
    assert (result.method, result.matched) == ("village", "开弦弓村")


def test_a_poi(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "七都中心小学门口占道经营")
    assert (result.method, result.matched) == ("poi", "七都中心小学")
    assert _near(result.lon, result.lat, 120.4125, 30.9065)
    assert geocode(db_session, "开弦弓小学东门").method == "poi"


def test_a_group_numbered_village(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "沧浦村三组四号")
    assert (result.method, result.matched) == ("house", "沧浦村3组4号")


def test_an_address_stored_without_parts(gazetteer: None, db_session: Session) -> None:
    result = geocode(db_session, "浦江源社区东风路2号门口")
    assert (result.method, result.matched) == ("house", "浦江源社区东风路2号")
    assert _near(result.lon, result.lat, 120.401 + 2 * STEP, 30.915)


def test_the_same_road_and_number_in_two_villages_cannot_be_placed(
        gazetteer: None, db_session: Session) -> None:
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, "南环路5号")
    candidates = caught.value.extra["candidates"]
    assert {c["address"] for c in candidates[:2]} == {"开弦弓村南环路5号", "庙港社区南环路5号"}
    assert all(c["confidence"] < 0.5 for c in candidates)
    # naming the village settles it
    assert geocode(db_session, "庙港社区南环路5号").matched == "庙港社区南环路5号"


def test_an_unknown_address_cannot_be_placed(gazetteer: None, db_session: Session) -> None:
    for query in ("火星村银河路8号", "花果山水帘洞", "附近"):
        with pytest.raises(NotFoundError):
            geocode(db_session, query)


def test_a_stricter_minimum_turns_a_weak_match_away(gazetteer: None,
                                                    db_session: Session) -> None:
    assert geocode(db_session, "开弦弓村", min_confidence=0.5).method == "village"
    with pytest.raises(NotFoundError):
        geocode(db_session, "开弦弓村", min_confidence=0.9)


def test_an_empty_address_is_invalid(db_session: Session) -> None:
    with pytest.raises(InvalidInputError):
        geocode(db_session, "  ")


def test_an_empty_gazetteer(db_session: Session) -> None:
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, "开弦弓村南环路5号")
    assert caught.value.extra["candidates"] == []


def test_the_endpoint(client: TestClient, town: dict[str, Path], gazetteer: None,
                      auth: dict[str, str]) -> None:
    response = client.get("/api/v1/geocode", params={"q": "开弦弓村南环路５号门口"},
                          headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["method"], body["matched"], body["confidence"]) == \
        ("house", "开弦弓村南环路5号", 1.0)
    assert (body["lon"], body["lat"]) == pytest.approx(south_ring(5))
    assert body["locate"]["grid3"] == {"code": "T-A-1", "name": "西村一组"}
    assert body["locate"]["in_service_area"] is True


def test_the_endpoint_cannot_place(client: TestClient, town: dict[str, Path],
                                   gazetteer: None, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/geocode", params={"q": "南环路5号"}, headers=auth)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert len(body["candidates"]) >= 2
    assert set(body["candidates"][0]) == {"address", "matched", "lon", "lat", "confidence",
                                         "method"}


def test_the_endpoint_refuses_bad_input(client: TestClient, auth: dict[str, str]) -> None:
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "路" * 401}):
        response = client.get("/api/v1/geocode", params=params, headers=auth)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


def test_the_endpoint_needs_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/geocode", params={"q": "开弦弓村南环路5号"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def _poi(village: str, road: str, number: int, name: str, lon: float,
         lat: float) -> AddressPoint:
    return _point(f"{village}{road}{number}号{name}", lon, lat, village, road, f"{number}号",
                  name)


@pytest.fixture()
def places(db_session: Session) -> None:
    """Villages, roads and POIs as in the demo town, each village ~1.1 km from the next.

    开弦弓村 秀水路 16–20号, 18-1号, 18-2号 (y = 30.930)   庙港社区 七都大道 50–55号,
    七都农贸市场 by 53号, 庙港社区卫生室 by 51号 (30.940)   庙港村 新港路 1–60号, 庙港村卫生室
    by 2号 (30.950)   七都社区 明月路 1–5号, 阳光小区 (30.960)   太湖村 苇荡路 1–5号 (30.970)
    望湖村 金港路 1–5号, 湖滨公园 by 1号 (30.980)   联强村 渔港路 1–5号 (30.990)
    隐读村 太湖路 1–5号 (31.000)
    """
    x = 120.43
    points = [
        *_road("开弦弓村", "秀水路", 20, x, 30.930)[15:],
        *(_point(f"开弦弓村秀水路18-{n}号", x + 18 * STEP, 30.930 + n * 0.00005, "开弦弓村",
                 "秀水路", f"18-{n}号") for n in (1, 2)),
        *(_point(f"七都镇七都大道{n}号", x + n * STEP, 30.940, "庙港社区", "七都大道", f"{n}号")
          for n in range(50, 56)),
        _poi("庙港社区", "七都大道", 53, "七都农贸市场", x + 53 * STEP, 30.9402),
        _poi("庙港社区", "七都大道", 51, "庙港社区卫生室", x + 51 * STEP, 30.9402),
        *_road("庙港村", "新港路", 60, x, 30.950),
        _poi("庙港村", "新港路", 2, "庙港村卫生室", x + 2 * STEP, 30.9502),
        *_road("七都社区", "明月路", 5, x, 30.960),
        _poi("七都社区", "明月路", 5, "阳光小区", x + 5 * STEP, 30.9602),
        *_road("太湖村", "苇荡路", 5, x, 30.970),
        *_road("望湖村", "金港路", 5, x, 30.980),
        _poi("望湖村", "金港路", 1, "湖滨公园", x + STEP, 30.9802),
        *_road("联强村", "渔港路", 5, x, 30.990),
        *_road("隐读村", "太湖路", 5, x, 31.000),
    ]
    db_session.add_all(points)
    db_session.commit()


@pytest.mark.parametrize("query", [
    "江苏苏州吴江七都镇开弦弓村秀水路18号", "苏州吴江开弦弓村秀水路18号门口",
    "江苏吴江七都开弦弓村秀水路十八号", "七都秀水路18号",
])
def test_region_prefixes_without_suffixes(places: None, db_session: Session,
                                          query: str) -> None:
    result = geocode(db_session, query)
    assert (result.method, result.matched) == ("house", "开弦弓村秀水路18号")
    assert result.confidence == 1.0


@pytest.mark.parametrize("query", [
    "开弦弓村秀水路18-一号", "开弦弓村秀水路18之一号", "开弦弓村秀水路18－1号",
    "开弦弓村秀水路十八-一号附近",
])
def test_sub_numbers_with_chinese_numerals(places: None, db_session: Session,
                                           query: str) -> None:
    result = geocode(db_session, query)
    assert (result.method, result.matched) == ("house", "开弦弓村秀水路18-1号")


def test_a_road_mouth_is_the_road(places: None, db_session: Session) -> None:
    result = geocode(db_session, "太湖路口有积水")
    assert (result.method, result.matched) == ("road", "隐读村太湖路")  # not 太湖村
    result = geocode(db_session, "庙港渔港路口")  # 庙港 names two villages, neither has it
    assert (result.method, result.matched) == ("road", "联强村渔港路")
    assert result.confidence < 0.9


def test_a_road_mouth_at_a_place_of_that_name(places: None, db_session: Session) -> None:
    db_session.add(_poi("庙港社区", "七都大道", 55, "庙港渔港", 120.43 + 55 * STEP, 30.9402))
    db_session.commit()
    result = geocode(db_session, "庙港渔港路口")
    assert (result.method, result.matched) == ("poi", "庙港渔港")


def test_a_road_behind_a_village_name_is_searched_for_itself(
        places: None, db_session: Session) -> None:
    # 60 points of 庙港村 on 新港路 are nearer "庙港渔港路" in trigrams than 渔港路's own
    result = geocode(db_session, "庙港渔港路")
    assert (result.method, result.matched) == ("road", "联强村渔港路")
    result = geocode(db_session, "庙港渔港路3号")
    assert (result.method, result.matched) == ("house", "联强村渔港路3号")


def test_a_housing_estate_is_a_place(places: None, db_session: Session) -> None:
    result = geocode(db_session, "阳光小区5栋")
    assert (result.method, result.matched) == ("poi", "阳光小区")


@pytest.mark.parametrize(("query", "poi"), [
    ("太湖湖滨公园", "湖滨公园"),  # 太湖 here is the lake, not 太湖村
    ("七都农贸市场", "七都农贸市场"),  # in 庙港社区, not 七都社区
    ("七都农贸市场门口占道经营", "七都农贸市场"),
    ("吴江七都农贸市场", "七都农贸市场"),
    ("七都菜市场", "七都农贸市场"),  # near the name, and no rival
    ("庙港村卫生室", "庙港村卫生室"),
    ("庙港社区卫生室", "庙港社区卫生室"),
])
def test_a_poi_named_like_a_village_is_the_poi(places: None, db_session: Session,
                                               query: str, poi: str) -> None:
    result = geocode(db_session, query)
    assert (result.method, result.matched) == ("poi", poi)


def test_a_poi_inside_an_address_does_not_name_a_village(places: None,
                                                         db_session: Session) -> None:
    result = geocode(db_session, "七都大道53号七都农贸市场西侧")
    assert result.method == "house"
    assert "七都大道53号" in result.matched


def test_a_poi_two_villages_may_hold_is_not_placed(places: None, db_session: Session) -> None:
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, "庙港卫生室")
    candidates = caught.value.extra["candidates"]
    assert {c["address"] for c in candidates[:2]} == {"庙港村卫生室", "庙港社区卫生室"}
    assert {c["method"] for c in candidates[:2]} == {"poi"}


def test_poi_names_as_callers_say_them() -> None:
    assert poi_names("庙港村卫生室", "庙港村") == ("庙港村卫生室", "庙港卫生室")
    assert poi_names("七都镇敬老院", "庙港社区") == ("七都镇敬老院", "敬老院")
    assert poi_names("湖滨公园", None) == ("湖滨公园",)


@pytest.mark.parametrize(("asked", "stored", "similarity"), [
    ("开弦弓", "开弦弓村", 1.0), ("开弦弓村", "开弦弓村", 1.0), ("庙港", "庙港社区", 1.0),
    ("庙港村", "庙港社区", 0.5), ("庙港社区", "庙港村", 0.5),
])
def test_village_similarity(asked: str, stored: str, similarity: float) -> None:
    assert village_similarity(asked, stored) == pytest.approx(similarity)
