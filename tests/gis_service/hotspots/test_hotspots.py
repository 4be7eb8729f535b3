"""Early warning against the test town: a rising hotspot, a new cluster, repeat addresses, a
rising category — scoped to the caller, with thresholds from the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.addresses.models import AddressPoint
from gis_service.config import Settings
from gis_service.hotspots.service import scan_hotspots, thresholds_from
from gis_service.main import create_app

LIMITS = thresholds_from(Settings(database_url="postgresql+psycopg://unused/unused"))

Token = Callable[..., dict[str, str]]
HOT = (120.4035, 30.9035)  # inside T-A-1 (西村一组)
NEW = (120.4165, 30.9165)  # inside T-B-2 (东村二组)


def spots(lon: float, lat: float, n: int, step: float = 0.0005) -> list[tuple[float, float]]:
    """n points ~50 m apart, all in the H3 cell (resolution 8) of (lon, lat)."""
    cell = h3.latlng_to_cell(lat, lon, 8)
    found = [(lon + dx * step, lat + dy * step) for dx in range(-4, 5) for dy in range(-4, 5)]
    inside = [p for p in found if h3.latlng_to_cell(p[1], p[0], 8) == cell]
    assert len(inside) >= n
    return sorted(inside, key=lambda p: (p[0] - lon) ** 2 + (p[1] - lat) ** 2)[:n]


def report(client: TestClient, auth: dict[str, str], where: tuple[float, float],
           at: datetime, category: str = "GARBAGE", address: str | None = None) -> Any:
    body: dict[str, Any] = {"source": "grid_patrol", "category": category,
                            "reported_at": at.isoformat(),
                            "location": {"lon": where[0], "lat": where[1], "crs": "wgs84"}}
    if address:
        body["address"] = address
    response = client.post("/api/v1/incidents", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def seed_rising_hotspot(client: TestClient, auth: dict[str, str], now: datetime) -> None:
    """Two reports a week for eight weeks in HOT's cell, fifteen this week."""
    points = spots(*HOT, 15)
    for week in range(1, 9):
        for i in range(2):
            report(client, auth, points[i], now - timedelta(days=7 * week + 1 + i))
    for i, point in enumerate(points):
        report(client, auth, point, now - timedelta(hours=2 + i))


def hotspots(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get("/api/v1/hotspots", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def of_kind(answer: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [w for w in answer["warnings"] if w["kind"] == kind]


def test_a_rising_hotspot_is_warned_with_its_cell(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    now = datetime.now(UTC)
    seed_rising_hotspot(client, auth, now)
    answer = hotspots(client, auth)
    assert answer["baseline_weeks"] == 8
    found = of_kind(answer, "hotspot")
    assert len(found) == 1
    hot = found[0]
    assert hot["cell"] == h3.latlng_to_cell(HOT[1], HOT[0], 8)
    assert hot["count"] == 15 and hot["expected"] == 2.0 and hot["ratio"] == 7.5
    assert hot["p"] < 1e-6 and hot["geometry"]["type"] == "Polygon"
    assert hot["message"] == "西村一组附近本周垃圾堆放类上报15起，为近8周均值的7.5倍"
    assert of_kind(answer, "new_cluster") == [] and of_kind(answer, "repeat_address") == []
    assert [w["grid"] for w in of_kind(answer, "grid_load")] == ["T-A-1"]
    cells = {f["id"]: f["properties"] for f in answer["cells"]["features"]}
    assert cells[hot["cell"]]["flagged"] and cells[hot["cell"]]["count"] == 15

    last_week = hotspots(client, auth, week_end=(now - timedelta(days=7)).isoformat())
    assert of_kind(last_week, "hotspot") == []  # the week before was ordinary


def test_a_new_cluster_and_repeat_addresses(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    now = datetime.now(UTC)
    # the town's address point where the callers of the first group live
    db_session.add(AddressPoint(address="东村一组河边路3号", village="东村", road="河边路",
                                number="3号", poi=None, attributes={},
                                geom="SRID=4490;POINT(120.4142 30.9021)"))
    db_session.commit()
    for i, point in enumerate(spots(*NEW, 6, step=0.001)):
        report(client, auth, point, now - timedelta(hours=1 + i), category="BUILDING")
    # the callers' own words: never a place name on the wall
    for i, address in enumerate(["我家住在东村一组 河边3号", "我家住在东村一组河边 3 号",
                                 "我家住在东村一组，河边3号"]):
        report(client, auth, (120.412 + i * 0.002, 30.902), now - timedelta(hours=i + 1),
               address=address)
    for i in range(3):  # no address, but within ~30 m of each other
        report(client, auth, (120.4085 + i * 0.0001, 30.9065), now - timedelta(hours=i + 1))
    for i in range(3):  # the same words, far from any address point
        report(client, auth, (120.402 + i * 0.002, 30.918), now - timedelta(hours=i + 1),
               address="张三家门口 电话13800000000")
    answer = hotspots(client, auth)

    cluster = of_kind(answer, "new_cluster")
    assert len(cluster) == 1 and h3.latlng_to_cell(NEW[1], NEW[0], 8) in cluster[0]["cells"]
    assert cluster[0]["count"] == 6 and cluster[0]["expected"] == 0
    assert cluster[0]["geometry"]["type"] == "MultiPolygon"
    assert "东村二组附近出现新的聚集" in cluster[0]["message"]

    repeats = of_kind(answer, "repeat_address")
    assert sorted(w["message"] for w in repeats) == sorted([
        "东村一组河边路3号附近本周重复上报3起（多为垃圾堆放类）",
        "西村一组附近同一地点（30米内）本周重复上报3起（多为垃圾堆放类）",
        "西村二组同一地址本周重复上报3起（多为垃圾堆放类）"])
    assert sorted(str(w["address"]) for w in repeats) == ["None", "None", "东村一组河边路3号"]
    assert all(w["count"] == 3 and w["geometry"]["type"] == "Point" for w in repeats)
    shown = " ".join(str(w.get(key)) for w in answer["warnings"] for key in ("message", "address"))
    assert "我家" not in shown and "张三" not in shown and "138" not in shown


def test_a_rising_category_spread_over_the_town(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    now = datetime.now(UTC)
    places = [(120.402, 30.902), (120.412, 30.903), (120.405, 30.915), (120.417, 30.917)]
    for week in range(1, 9):
        report(client, auth, places[week % 4], now - timedelta(days=7 * week + 2),
               category="BUILDING")
    for i in range(8):
        report(client, auth, places[i % 4], now - timedelta(hours=3 + i), category="BUILDING")
    answer = hotspots(client, auth)
    rising = of_kind(answer, "rising_category")
    assert [w["category"] for w in rising] == ["BUILDING"]
    assert rising[0]["count"] == 8 and rising[0]["expected"] == 1.0
    assert rising[0]["message"] == "违章搭建类本周上报8起，为近8周均值的8.0倍"
    assert of_kind(answer, "hotspot") == []  # no one place stands out


def test_warnings_are_scoped_to_the_caller_and_the_area(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    now = datetime.now(UTC)
    seed_rising_hotspot(client, auth, now)
    assert len(of_kind(hotspots(client, token_for("grid_worker", "T-A-1")), "hotspot")) == 1
    assert hotspots(client, token_for("grid_worker", "T-B-1"))["warnings"] == []
    assert hotspots(client, token_for("department", "HB"))["warnings"] == []
    assert of_kind(hotspots(client, auth, area="T-B"), "hotspot") == []
    assert len(of_kind(hotspots(client, auth, area="T-A"), "hotspot")) == 1
    assert "cells" not in hotspots(client, auth, cells="false")
    assert client.get("/api/v1/hotspots").status_code == 401
    # the weekly report and the command line see everything
    everything = scan_hotspots(db_session, principal=None, area=None, week_end=now,
                               thresholds=LIMITS)
    assert len(of_kind(everything, "hotspot")) == 1


@pytest.fixture()
def strict_client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The service with a minimum count above the test's hotspot."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        hotspot_min_count=20, hotspot_baseline_weeks=4)
    with TestClient(create_app(settings, session_factory=session_factory)) as test_client:
        yield test_client


def test_thresholds_come_from_the_settings(
        strict_client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(UTC)
    seed_rising_hotspot(strict_client, auth, now)
    answer = hotspots(strict_client, auth)
    assert answer["baseline_weeks"] == 4 and answer["thresholds"]["min_count"] == 20
    assert of_kind(answer, "hotspot") == []
    # the report's scan takes the thresholds it is given, not the process environment
    monkeypatch.setenv("GIS_HOTSPOT_P_VALUE", "1e-12")
    strict = thresholds_from(Settings(hotspot_p_value=1e-12))
    assert of_kind(scan_hotspots(db_session, principal=None, area=None, week_end=now,
                                 thresholds=strict), "hotspot") == []
    assert len(of_kind(scan_hotspots(db_session, principal=None, area=None, week_end=now,
                                     thresholds=LIMITS), "hotspot")) == 1
