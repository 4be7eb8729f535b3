"""Intake: every report is stored once, located, and routed by the responsibility list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis_service.incidents import service
from tests.town import handler

Token = Callable[..., dict[str, str]]


def report(client: TestClient, headers: dict[str, str], **fields: object):  # type: ignore[no-untyped-def]
    body = {"source": "hotline_12345", "description": "test", **fields}
    return client.post("/api/v1/incidents", json=body, headers=headers)


def at(lon: float, lat: float, crs: str = "wgs84") -> dict[str, object]:
    return {"lon": lon, "lat": lat, "crs": crs}


def test_grid_matter_goes_to_the_grid_worker(client: TestClient, town: dict[str, Path],
                                            auth: dict[str, str]) -> None:
    response = report(client, auth, external_id="H1", category="GARBAGE",
                      location=at(120.402, 30.902))
    assert response.status_code == 201
    body = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert body["status"] == "dispatched"
    assert handler(body) == ("grid_worker", "W1")
    assert (body["town"], body["grid2"], body["grid3"], body["district"]) == \
        ("T", "T-A", "T-A-1", "D1")
    history = client.get(f"/api/v1/incidents/{body['id']}/history", headers=auth).json()
    assert [h["action"] for h in history] == ["report", "dispatch"]
    assert history[1]["detail"] == {"auto": True, "rule": "GARBAGE", "duty": "county-wide",
                                     "handler": "grid",
                                    "grid3": "T-A-1", "post": "A"}


def test_absent_worker_hands_over_to_the_b_post(client: TestClient, town: dict[str, Path],
                                               auth: dict[str, str]) -> None:
    body = report(client, auth, category="GARBAGE", location=at(120.415, 30.902)).json()
    assert handler(body) == ("grid_worker", "W4")
    history = client.get(f"/api/v1/incidents/{body['id']}/history", headers=auth).json()
    assert history[1]["detail"]["post"] == "B" and history[1]["detail"]["absent"] == "W3"


def test_squad_department_and_town_matters(client: TestClient, town: dict[str, Path],
                                           auth: dict[str, str]) -> None:
    north = at(120.415, 30.915)
    squad = report(client, auth, category="BUILDING", location=north).json()
    assert handler(squad) == ("squad", "Q2")
    assert squad["cooperating"] == ["JS"]
    department = report(client, auth, category="POLLUTION", location=north).json()
    assert handler(department) == ("department", "HB")
    flood = report(client, auth, category="FLOOD", location=north).json()
    assert handler(flood) == ("town", "T")


def test_coordinates_in_gcj02_are_located(client: TestClient, town: dict[str, Path],
                                          auth: dict[str, str]) -> None:
    from grid_layers.crs import point_from_storage

    lon, lat = point_from_storage(120.402, 30.902, "gcj02")
    body = report(client, auth, category="GARBAGE", location=at(lon, lat, "gcj02")).json()
    assert body["grid3"] == "T-A-1"
    assert abs(body["lon"] - 120.402) < 1e-8  # stored in the storage CRS


def test_unplaceable_and_unknown_reports_wait_for_a_dispatcher(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    nowhere = report(client, auth, category="GARBAGE").json()
    assert nowhere["status"] == "needs_location" and nowhere["assignee"] is None
    outside = report(client, auth, category="GARBAGE", location=at(121.0, 31.5)).json()
    assert outside["status"] == "needs_location"
    unknown = report(client, auth, category="UFO", location=at(120.402, 30.902)).json()
    assert unknown["status"] == "reported" and unknown["due_at"] is not None


def test_same_source_and_external_id_is_one_incident(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    first = report(client, auth, external_id="H7", category="GARBAGE",
                   location=at(120.402, 30.902))
    again = report(client, auth, external_id="H7", category="GARBAGE",
                   location=at(120.402, 30.902))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other_channel = report(client, auth, source="mayor_mailbox", external_id="H7")
    assert other_channel.status_code == 201
    count = db_session.scalar(text("SELECT count(*) FROM incident WHERE external_id = 'H7'"))
    assert count == 2


def test_idempotency_key(client: TestClient, town: dict[str, Path], auth: dict[str, str],
                         db_session: Session, engine: Engine) -> None:
    headers = {**auth, "Idempotency-Key": "k-1"}
    first = report(client, headers, category="GARBAGE", location=at(120.402, 30.902))
    again = report(client, headers, category="GARBAGE", location=at(120.402, 30.902))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    changed = report(client, headers, category="FLOOD", location=at(120.402, 30.902))
    assert changed.status_code == 422
    # a request still in flight holds its key (an uncommitted claim on another connection):
    # a second one waits a moment, then is told so
    admin_id = db_session.scalar(text("SELECT id FROM account WHERE username = 'admin'"))
    with engine.connect() as other:
        other.execute(text(
            "INSERT INTO idempotency_key (key, account_id, request_hash, created_at) "
            "VALUES (:key, :account, 'x', now())"), {"key": f"{admin_id}:k-2",
                                                    "account": admin_id})
        busy = report(client, {**auth, "Idempotency-Key": "k-2"}, category="GARBAGE")
        assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
        other.rollback()  # the first request failed: nothing of it is left
    retried = report(client, {**auth, "Idempotency-Key": "k-2"}, category="GARBAGE",
                     location=at(120.402, 30.902))
    assert retried.status_code == 201


def test_a_failed_intake_leaves_its_key_free(client: TestClient, town: dict[str, Path],
                                             auth: dict[str, str], db_session: Session,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {**auth, "Idempotency-Key": "k-3"}

    def lost_connection(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(service, "intake", lost_connection)
        with pytest.raises(RuntimeError):
            report(client, headers, category="GARBAGE", location=at(120.402, 30.902))
    assert db_session.scalar(text("SELECT count(*) FROM idempotency_key WHERE key LIKE :k"),
                             {"k": "%:k-3"}) == 0
    placed = report(client, headers, category="GARBAGE", location=at(120.402, 30.902))
    assert placed.status_code == 201


def test_a_claim_left_by_an_older_failure_is_taken_over(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session) -> None:
    admin_id = db_session.scalar(text("SELECT id FROM account WHERE username = 'admin'"))
    db_session.execute(text(
        "INSERT INTO idempotency_key (key, account_id, request_hash, created_at) "
        "VALUES (:key, :account, 'x', now())"), {"key": f"{admin_id}:k-4", "account": admin_id})
    db_session.commit()
    taken = report(client, {**auth, "Idempotency-Key": "k-4"}, category="GARBAGE",
                   location=at(120.402, 30.902))
    assert taken.status_code == 201
    again = report(client, {**auth, "Idempotency-Key": "k-4"}, category="GARBAGE",
                   location=at(120.402, 30.902))
    assert again.status_code == 200 and again.json()["id"] == taken.json()["id"]


def test_server_owned_fields_are_refused(client: TestClient, town: dict[str, Path],
                                         auth: dict[str, str]) -> None:
    for field, value in (("status", "closed"), ("assignee", {"type": "town", "code": "T"}),
                         ("version", 9), ("grid3", "T-B-2")):
        response = report(client, auth, category="GARBAGE", **{field: value})
        assert response.status_code == 422, field
        assert response.headers["content-type"] == "application/problem+json"


def test_county_ticket_keeps_parent_id_and_deadline(client: TestClient, town: dict[str, Path],
                                                    auth: dict[str, str]) -> None:
    body = report(client, auth, source="county_ticket", external_id="C-2026-001",
                  parent_ticket_id="WJ-12345-889", county_due_at="2026-01-01T12:00:00+08:00",
                  category="GARBAGE", location=at(120.402, 30.902)).json()
    assert body["parent_ticket_id"] == "WJ-12345-889"
    # the county's deadline, earlier than the category's 24 h
    assert datetime.fromisoformat(body["due_at"]) == datetime(2026, 1, 1, 4, tzinfo=UTC)
    read_back = client.get(f"/api/v1/incidents/{body['id']}", headers=auth).json()
    assert read_back["status"] == "dispatched"


def test_zone_rules_raise_priority_shorten_deadlines_and_add_co_handlers(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    def hours(body: dict) -> float:
        created = datetime.fromisoformat(body["created_at"])
        return (datetime.fromisoformat(body["due_at"]) - created).total_seconds() / 3600

    in_taihu_1 = report(client, auth, category="POLLUTION", location=at(120.401, 30.902)).json()
    assert in_taihu_1["priority"] == 2 and round(hours(in_taihu_1), 3) == 6.0  # 12 h × 0.5
    assert in_taihu_1["cooperating"] == ["HB", "JS"]
    history = client.get(f"/api/v1/incidents/{in_taihu_1['id']}/history", headers=auth).json()
    assert history[1]["detail"]["zone_rules"] == ["TAIHU-1"]
    elsewhere = report(client, auth, category="POLLUTION", location=at(120.415, 30.915)).json()
    assert elsewhere["priority"] == 0 and round(hours(elsewhere), 3) == 12.0
    on_site = report(client, auth, category="BUILDING", location=at(120.412, 30.912)).json()
    assert on_site["priority"] == 1 and round(hours(on_site), 3) == 54.0  # 72 h × 0.75
    garbage = report(client, auth, category="GARBAGE", location=at(120.401, 30.902)).json()
    assert garbage["priority"] == 0  # the rule names other matters


def test_hotline_address_is_geocoded_then_routed(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], db_session: Session,
        tmp_path: Path) -> None:
    from gis_service.imports.service import run_import
    from tests.town import write_csv

    rows = [[f"西村太湖路{n}号", f"{120.4005 + n * 0.0001:.6f}", "30.9020", "西村", "太湖路",
             str(n)] for n in range(10, 30)]
    path = write_csv(tmp_path / "addresses.csv",
                     ["address", "lon", "lat", "village", "road", "number"], rows)
    assert run_import(db_session, "addresses", path).accepted
    db_session.commit()
    messy = "江苏省苏州市吴江区七都镇西村太湖路十八号门口有垃圾"
    body = report(client, auth, category="GARBAGE", address=messy).json()
    assert body["status"] == "dispatched" and body["grid3"] == "T-A-1"
    assert abs(body["lon"] - 120.4023) < 1e-6  # number 18's point
    history = client.get(f"/api/v1/incidents/{body['id']}/history", headers=auth).json()
    assert history[0]["detail"]["geocode"]["method"] == "house"
    lost = report(client, auth, category="GARBAGE", address="东山镇某某路一百号").json()
    assert lost["status"] == "needs_location" and lost["lon"] is None
    assert isinstance(lost["candidates"], list)
