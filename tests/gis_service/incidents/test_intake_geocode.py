"""A report placed by its address: only the place itself (a house or a POI), in this
deployment's area, is placed without a person; a road's or village's stand-in point and an
address of another town wait in `needs_location` with the candidates, best first. The bulk
import follows the same rule, except that a closed ticket keeps a stand-in point.

The gazetteer lies in the test town (七都镇(测试)): 西村 太湖路 10–29号 along y = 30.902 (in
T-A-1), 西村 has no other road; 东村 渔港路 1–5号 along y = 30.915 (in T-B-2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports.incidents import import_incidents
from gis_service.imports.service import run_import
from tests.town import write_csv

HISTORY = ["source", "external_id", "category", "lon", "lat", "address", "reported_at",
           "closed_at", "resolution", "satisfaction"]


@pytest.fixture()
def gazetteer(db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    """The gazetteer of the module docstring, imported by the ordinary importer."""
    rows = [[f"西村太湖路{n}号", f"{120.4005 + n * 0.0001:.6f}", "30.9020", "西村", "太湖路",
             str(n)] for n in range(10, 30)]
    rows += [[f"东村渔港路{n}号", f"{120.4150 + n * 0.0001:.6f}", "30.9150", "东村", "渔港路",
              str(n)] for n in range(1, 6)]
    path = write_csv(tmp_path / "addresses.csv",
                     ["address", "lon", "lat", "village", "road", "number"], rows)
    assert run_import(db_session, "addresses", path).accepted
    db_session.commit()


def _report(client: TestClient, auth: dict[str, str], address: str) -> dict[str, Any]:
    body = {"source": "hotline_12345", "description": "垃圾", "category": "GARBAGE",
            "address": address}
    response = client.post("/api/v1/incidents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _geocode_detail(client: TestClient, auth: dict[str, str], incident_id: int) -> Any:
    history = client.get(f"/api/v1/incidents/{incident_id}/history", headers=auth).json()
    assert history[0]["action"] == "report"
    return history[0]["detail"]["geocode"]


def _candidates(session: Session, incident_id: int) -> list[dict[str, Any]]:
    return list(session.scalar(text("SELECT candidates FROM incident WHERE id = :i"),
                               {"i": incident_id}))


def test_a_house_is_placed_and_dispatched(client: TestClient, gazetteer: None,
                                          auth: dict[str, str]) -> None:
    body = _report(client, auth, "江苏省苏州市吴江区七都镇西村太湖路十八号门口")
    assert (body["status"], body["grid3"]) == ("dispatched", "T-A-1")
    assert _geocode_detail(client, auth, body["id"]) == {
        "placed": True, "matched": "西村太湖路18号", "method": "house", "confidence": 1.0}


@pytest.mark.parametrize(("address", "method", "matched"), [
    ("七都镇西村附近有垃圾", "village", "西村"),
    ("西村银河路8号", "village", "西村"),  # a road the village does not have
    ("东村渔港路99号", "road", "东村渔港路"),  # a number the road does not have
    ("东村渔港路口", "road", "东村渔港路"),
])
def test_a_road_or_village_guess_waits_for_the_dispatcher(
        client: TestClient, gazetteer: None, auth: dict[str, str], db_session: Session,
        address: str, method: str, matched: str) -> None:
    body = _report(client, auth, address)
    assert (body["status"], body["lon"], body["assignee"]) == ("needs_location", None, None)
    detail = _geocode_detail(client, auth, body["id"])
    assert (detail["placed"], detail["method"], detail["matched"]) == (False, method, matched)
    assert detail["confidence"] >= 0.5  # sure enough for the geocoder, not to place unseen
    assert detail["reason"].endswith("请人工确认位置")
    first = _candidates(db_session, body["id"])[0]
    assert (first["method"], first["matched"]) == (method, matched)
    assert first["confidence"] == detail["confidence"]
    assert first["lon"] is not None and first["lat"] is not None


@pytest.mark.parametrize(("address", "name"), [
    ("吴江区松陵镇西村太湖路18号", "松陵镇"), ("平望镇西村太湖路18号", "平望镇"),
    ("浙江省湖州市南浔区西村太湖路18号", "浙江省"),
])
def test_an_address_of_another_place_waits_with_the_reason(
        client: TestClient, gazetteer: None, auth: dict[str, str], db_session: Session,
        address: str, name: str) -> None:
    body = _report(client, auth, address)
    assert (body["status"], body["lon"]) == ("needs_location", None)
    detail = _geocode_detail(client, auth, body["id"])
    assert detail["placed"] is False
    assert detail["reason"] == f"地址中的{name}不在本系统辖区"
    first = _candidates(db_session, body["id"])[0]
    assert first["matched"] == "西村太湖路18号" and first["confidence"] < 0.5


def test_the_import_follows_the_rule_and_closed_tickets_keep_their_point(
        db_session: Session, gazetteer: None, tmp_path: Path) -> None:
    opened, closed = "2026-03-01T09:00:00+08:00", "2026-03-01T15:00:00+08:00"
    path = write_csv(tmp_path / "history.csv", HISTORY, [
        ["hotline_12345", "H1", "GARBAGE", "", "", "西村太湖路18号", opened, "", "", ""],
        ["hotline_12345", "V-OPEN", "GARBAGE", "", "", "七都镇西村附近", opened, "", "", ""],
        ["hotline_12345", "V-CLOSED", "GARBAGE", "", "", "七都镇西村附近", opened, closed,
         "service", "5"],
        ["hotline_12345", "R-OPEN", "GARBAGE", "", "", "东村渔港路99号", opened, "", "", ""],
        ["hotline_12345", "F-CLOSED", "GARBAGE", "", "", "吴江区松陵镇西村太湖路18号", opened,
         closed, "service", ""],
    ])
    report = import_incidents(db_session, path)
    assert report.accepted, report.lines()
    stored = {row.external_id: row for row in db_session.execute(text(
        "SELECT i.*, e.detail->'geocode' AS geocode FROM incident i JOIN incident_event e "
        "ON e.incident_id = i.id AND e.action = 'report'"))}
    assert (stored["H1"].status, stored["H1"].geocode["method"]) == ("dispatched", "house")
    for waiting in ("V-OPEN", "R-OPEN"):
        row = stored[waiting]
        assert (row.status, row.lon, row.geocode["placed"]) == ("needs_location", None, False)
        assert row.candidates[0]["method"] == row.geocode["method"]
    kept = stored["V-CLOSED"]
    assert (kept.status, kept.grid3_code) == ("closed", "T-A-1")
    assert kept.geocode == {"placed": True, "matched": "西村", "method": "village",
                            "confidence": kept.geocode["confidence"], "approximate": True}
    assert kept.candidates is None
    # a closed ticket of another town is no history of this one: it is not placed here
    other = stored["F-CLOSED"]
    assert (other.status, other.lon) == ("needs_location", None)
    assert other.geocode["reason"] == "地址中的松陵镇不在本系统辖区"


def test_intake_follows_the_service_area_setting(client_elsewhere: TestClient,
                                                 gazetteer: None, auth: dict[str, str]) -> None:
    refused = _report(client_elsewhere, auth, "吴江区七都镇西村太湖路18号")
    assert refused["status"] == "needs_location"
    detail = _geocode_detail(client_elsewhere, auth, refused["id"])
    assert detail["reason"] == "地址中的吴江区不在本系统辖区"
    placed = _report(client_elsewhere, auth, "浙江省湖州市南浔区七都镇西村太湖路18号")
    assert placed["status"] == "dispatched"
