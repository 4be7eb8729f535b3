"""The geocoder knows where it is: an address naming another province, city, county or town is
not placed here, an address of this deployment (named or not) still is, and a match outside
the town the address names is not placed.

The gazetteer is the test town's (level-1 grid "七都镇(测试)" over [120.40, 120.42] ×
[30.90, 30.92]) with roads that other towns of 吴江区 also have (环湖大道, 书院路):

    庙港社区 (east)   书院路 1–20号 along y = 30.904, 环湖大道 110–120号 along y = 30.906
    开弦弓村 (west)   南环路 1–9号 along y = 30.902, 书院路 1–9号 along y = 30.908
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.addresses.models import AddressPoint
from gis_service.errors import NotFoundError
from gis_service.geocode.area import (
    DEFAULT_AREA_NAMES,
    ServiceArea,
    admin_stem,
    area_names,
    without_note,
)
from gis_service.geocode.normalize import AdminName, read_address
from gis_service.geocode.service import OTHER_TOWN, geocode

STEP = 0.0003
AREA = ServiceArea(area_names(DEFAULT_AREA_NAMES), ("七都镇(测试)",))
HOUSE = "庙港社区书院路18号"


def _road(village: str, road: str, numbers: range, x0: float, y: float) -> list[AddressPoint]:
    return [AddressPoint(address=f"{village}{road}{n}号", village=village, road=road,
                         number=f"{n}号", poi=None, attributes={},
                         geom=f"SRID=4490;POINT({x0 + (n % 20) * STEP} {y})") for n in numbers]


@pytest.fixture()
def gazetteer(db_session: Session) -> None:
    """The gazetteer of the module docstring, in the test's transaction."""
    db_session.add_all([
        *_road("庙港社区", "书院路", range(1, 21), 120.411, 30.904),
        *_road("庙港社区", "环湖大道", range(110, 121), 120.411, 30.906),
        *_road("开弦弓村", "南环路", range(1, 10), 120.401, 30.902),
        *_road("开弦弓村", "书院路", range(1, 10), 120.401, 30.908),
    ])
    db_session.commit()


@pytest.mark.parametrize(("raw", "named"), [
    ("吴江区松陵镇环湖大道118号", [("吴江区", False), ("松陵镇", True)]),
    ("平望镇庙港社区书院路18号", [("平望镇", True)]),
    ("江苏省苏州市吴江区七都镇庙港社区", [("江苏省", False), ("苏州市", False),
                                          ("吴江区", False), ("七都镇", True)]),
    ("江苏苏州吴江七都镇庙港社区", [("江苏", False), ("苏州", False), ("吴江", False),
                                    ("七都镇", True)]),
    ("江苏吴江七都镇庙港社区", [("江苏", False), ("吴江", False), ("七都镇", True)]),
    ("吴江市七都镇庙港社区", [("吴江市", False), ("七都镇", True)]),
    ("浙江湖州南浔区开弦弓村", [("浙江", False), ("湖州南浔区", False)]),
    ("内蒙古锡林郭勒盟正蓝旗上都镇", [("内蒙古", False), ("锡林郭勒盟", False),
                                      ("正蓝旗", False), ("上都镇", True)]),
    ("市民反映松陵街道开平路", [("松陵街道", True)]),
    # village and road names ending like a level are none
    ("庙港社区书院路18号", []), ("美丽乡村路5号", []), ("七都社区朝阳路5号", []),
    ("阳光小区5栋", []), ("太湖新城开弦弓村", []),
    # areas that end like a level but are none
    ("太湖保护区内开弦弓村", []), ("七都工业区书院路5号", []), ("太湖小镇3栋", []),
])
def test_the_names_an_address_opens_with(raw: str, named: list[tuple[str, bool]]) -> None:
    read = read_address(raw, prefixes=AREA.prefixes)
    assert [(n.name, n.town) for n in read.named] == named


def test_names_are_compared_by_their_stem() -> None:
    assert [admin_stem(n) for n in ("七都镇（演示）", "七都镇(测试)", "吴江区", "吴江市", "苏州市",
                                    "江苏省", "松陵街道", "沙县", "苏州")] == \
        ["七都", "七都", "吴江", "吴江", "苏州", "江苏", "松陵", "沙县", "苏州"]
    assert without_note("七都镇（演示）") == "七都镇"
    assert AREA.prefixes == ("江苏省", "苏州市", "吴江区", "吴江经济技术开发区", "太湖新城",
                             "七都镇")


@pytest.mark.parametrize(("named", "foreign"), [
    ([("江苏省", False), ("吴江市", False), ("七都", True)], None),
    ([("吴江区", False), ("松陵镇", True)], "松陵镇"),
    ([("浙江省", False)], "浙江省"),
    ([("苏州市", False), ("昆山市", False)], "昆山市"),
    ([("七都古镇", True)], None),  # opens with the town's name
    ([("同里古镇", True)], "同里古镇"),
])
def test_which_name_is_foreign(named: list[tuple[str, bool]], foreign: str | None) -> None:
    found = AREA.foreign(tuple(AdminName(n, t) for n, t in named))
    assert (found.name if found else None) == foreign


def test_without_towns_no_town_is_judged() -> None:
    assert ServiceArea(("吴江区",), ()).foreign((AdminName("松陵镇", True),)) is None


@pytest.mark.parametrize(("query", "name"), [
    ("吴江区松陵镇环湖大道118号", "松陵镇"),
    ("平望镇庙港社区书院路18号", "平望镇"),
])
def test_an_address_of_another_town_is_not_placed_here(
        gazetteer: None, db_session: Session, query: str, name: str) -> None:
    # without knowing where it is, the geocoder placed it with full confidence
    assert geocode(db_session, query).confidence == 1.0
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, query, area=AREA)
    assert caught.value.extra["reason"] == f"地址中的{name}不在本系统辖区"
    candidates = caught.value.extra["candidates"]
    assert candidates and candidates[0]["confidence"] == pytest.approx(OTHER_TOWN)


@pytest.mark.parametrize("query", [
    "浙江省湖州市南浔区庙港社区书院路18号", "上海市青浦区书院路18号", "苏州市昆山市书院路18号",
    "江苏省无锡市宜兴市官林镇庙港社区书院路18号",
])
def test_an_address_of_another_province_or_city_is_refused(
        gazetteer: None, db_session: Session, query: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, query, area=AREA)
    assert caught.value.extra["reason"].endswith("不在本系统辖区")


@pytest.mark.parametrize("query", [
    "江苏省苏州市吴江区七都镇庙港社区书院路18号", "苏州吴江七都庙港社区书院路十八号",
    "吴江市七都镇庙港社区书院路18号", "七都镇庙港社区书院路18号门口", "庙港社区书院路18号",
    "太湖新城庙港社区书院路18号",
])
def test_this_deployments_addresses_still_place(gazetteer: None, db_session: Session,
                                               query: str) -> None:
    result = geocode(db_session, query, area=AREA)
    assert (result.method, result.matched, result.confidence) == ("house", HOUSE, 1.0)
    assert result.auto_place


def test_a_match_outside_the_named_town_is_not_placed(gazetteer: None,
                                                      db_session: Session) -> None:
    # two towns: 西山镇 west of x = 120.41 (开弦弓村), 东山镇 east of it (庙港社区)
    area = ServiceArea(("吴江区",), ("西山镇", "东山镇"),
                       lambda lon, _: "西山镇" if lon < 120.41 else "东山镇")
    assert geocode(db_session, "西山镇开弦弓村南环路5号", area=area).matched == "开弦弓村南环路5号"
    with pytest.raises(NotFoundError) as caught:
        geocode(db_session, "东山镇开弦弓村南环路5号", area=area)
    assert caught.value.extra["reason"] == "地址中的东山镇与匹配地点所在的西山镇不符"
    # naming the town picks that town's road where two towns have it
    with pytest.raises(NotFoundError):
        geocode(db_session, "书院路5号", area=area)
    assert geocode(db_session, "东山镇书院路5号", area=area).matched == "庙港社区书院路5号"
    assert geocode(db_session, "西山镇书院路5号", area=area).matched == "开弦弓村书院路5号"


def test_the_endpoint_says_why_and_whether_it_would_place(
        client: TestClient, town: dict[str, Path], gazetteer: None,
        auth: dict[str, str]) -> None:
    refused = client.get("/api/v1/geocode", params={"q": "吴江区松陵镇环湖大道118号"},
                         headers=auth)
    assert refused.status_code == 404
    body = refused.json()
    assert body["reason"] == "地址中的松陵镇不在本系统辖区" and body["candidates"]
    placed = client.get("/api/v1/geocode", params={"q": "江苏省苏州市吴江区七都镇" + HOUSE},
                        headers=auth).json()
    assert (placed["matched"], placed["auto_place"]) == (HOUSE, True)
    assert placed["locate"]["town"]["name"] == "七都镇(测试)"
    village = client.get("/api/v1/geocode", params={"q": "七都镇庙港社区"}, headers=auth).json()
    assert (village["method"], village["auto_place"]) == ("village", False)
    assert village["confidence"] >= 0.5  # sure enough to show, not to place unseen


def test_the_service_area_is_a_setting(client_elsewhere: TestClient, town: dict[str, Path],
                                       gazetteer: None, auth: dict[str, str]) -> None:
    refused = client_elsewhere.get("/api/v1/geocode",
                                   params={"q": "江苏省苏州市吴江区" + HOUSE},
                                   headers=auth)
    assert refused.status_code == 404
    assert refused.json()["reason"] == "地址中的江苏省不在本系统辖区"
    here = client_elsewhere.get("/api/v1/geocode",
                                params={"q": "浙江省湖州市南浔区七都镇" + HOUSE},
                                headers=auth)
    assert here.status_code == 200 and here.json()["matched"] == HOUSE
