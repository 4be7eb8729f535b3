"""Idempotency-Key on actions, photos and patrol tracks: a write sent again with its key is
made once and answered with what the first made; the key is bound to its request, freed by a
refusal, and held while its first request is in flight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

Token = Callable[..., dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WALK = [(120.401, 30.905), (120.405, 30.905), (120.409, 30.905)]  # inside T-A-1


def task(client: TestClient, auth: dict[str, str]) -> dict[str, Any]:
    """A garbage report in T-A-1, dispatched to its grid worker W1."""
    made = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "category": "GARBAGE",
        "location": {"lon": 120.405, "lat": 30.905, "crs": "cgcs2000"}})
    assert made.status_code == 201, made.text
    assert made.json()["assignee"]["code"] == "W1"
    return dict(made.json())


def act(client: TestClient, headers: dict[str, str], incident: int, action: str,
        version: int, key: str | None = None, note: str = "") -> Any:
    sent = {**headers, "If-Match": f'"{version}"'}
    if key is not None:
        sent["Idempotency-Key"] = key
    return client.post(f"/api/v1/incidents/{incident}/actions", headers=sent,
                       json={"action": action, "note": note})


def history_actions(db_session: Session, incident: int, action: str) -> int:
    return int(db_session.scalar(text(
        "SELECT count(*) FROM incident_event WHERE incident_id = :id AND action = :action"),
        {"id": incident, "action": action}) or 0)


def test_an_action_sent_again_with_its_key_is_taken_once(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = task(client, auth)
    version = incident["version"]
    first = act(client, worker, incident["id"], "accept", version, key="a-1")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted" and first.json()["version"] == version + 1
    # the answer was lost; the phone sends the same request again: the same result, no 412
    again = act(client, worker, incident["id"], "accept", version, key="a-1")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "accepted" and again.json()["version"] == version + 1
    assert again.headers["etag"] == f'"{version + 1}"'
    assert history_actions(db_session, incident["id"], "accept") == 1
    # the incident moved on meanwhile: the repeat still answers with it as it is now
    started = act(client, worker, incident["id"], "start", version + 1, key="a-2")
    assert started.status_code == 200, started.text
    late = act(client, worker, incident["id"], "accept", version, key="a-1")
    assert late.status_code == 200 and late.json()["status"] == "in_progress"
    assert history_actions(db_session, incident["id"], "accept") == 1
    # the key is bound to its request
    other = act(client, worker, incident["id"], "resolve", version + 2, key="a-1")
    assert other.status_code == 422
    # without a key, a repeat is refused for its stale version, as before
    stale = act(client, worker, incident["id"], "start", version + 1)
    assert stale.status_code == 412


def test_a_refused_action_leaves_its_key_free(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = task(client, auth)
    refused = act(client, worker, incident["id"], "return", incident["version"], key="r-1")
    assert refused.status_code == 422  # a return needs its reason
    assert db_session.scalar(text("SELECT count(*) FROM idempotency_key WHERE key LIKE :k"),
                             {"k": "%:action:r-1"}) == 0
    wrong = act(client, worker, incident["id"], "resolve", incident["version"], key="r-2")
    assert wrong.status_code == 409  # not from dispatched
    taken = act(client, worker, incident["id"], "return", incident["version"], key="r-1",
                note="不属于本网格")
    assert taken.status_code == 200 and taken.json()["status"] != "dispatched"


def upload(client: TestClient, headers: dict[str, str], incident: int, data: bytes,
           key: str | None) -> Any:
    sent = dict(headers) if key is None else {**headers, "Idempotency-Key": key}
    return client.post(f"/api/v1/incidents/{incident}/photos", headers=sent,
                       files={"file": ("photo.png", data, "image/png")})


def test_a_photo_sent_again_with_its_key_is_stored_once(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = task(client, auth)
    first = upload(client, worker, incident["id"], PNG, "p-1")
    assert first.status_code == 201, first.text
    again = upload(client, worker, incident["id"], PNG, "p-1")
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(client.get(f"/api/v1/incidents/{incident['id']}/photos",
                          headers=worker).json()) == 1
    assert history_actions(db_session, incident["id"], "attach_photo") == 1
    assert upload(client, worker, incident["id"], JPEG, "p-1").status_code == 422
    # a refused upload frees its key
    assert upload(client, worker, incident["id"], b"not an image", "p-2").status_code == 415
    assert upload(client, worker, incident["id"], JPEG, "p-2").status_code == 201
    # another incident's photo under the same key is another request
    assert upload(client, worker, task(client, auth)["id"], PNG, "p-1").status_code == 422
    # without a key every upload is stored, as before
    assert upload(client, worker, incident["id"], PNG, None).status_code == 201
    assert len(client.get(f"/api/v1/incidents/{incident['id']}/photos",
                          headers=worker).json()) == 3


def track(start: datetime, walk: list[tuple[float, float]] = WALK) -> dict[str, Any]:
    return {"crs": "wgs84", "points": [[lon, lat, (start + timedelta(seconds=30 * n))
                                        .isoformat()] for n, (lon, lat) in enumerate(walk)]}


def test_a_track_sent_again_with_its_key_is_stored_once(
        client: TestClient, town: dict[str, Path], token_for: Token,
        db_session: Session) -> None:
    worker = {**token_for("grid_worker", "T-A-1"), "Idempotency-Key": "t-1"}
    start = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    first = client.post("/api/v1/patrols", headers=worker, json=track(start))
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/patrols", headers=worker, json=track(start))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert db_session.scalar(text("SELECT count(*) FROM patrol_track")) == 1
    later = client.post("/api/v1/patrols", headers=worker,
                        json=track(start + timedelta(hours=1)))
    assert later.status_code == 422
    other = client.post("/api/v1/patrols", headers={**worker, "Idempotency-Key": "t-2"},
                        json=track(start + timedelta(hours=1)))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # the same key of another account is that account's own
    neighbour = {**token_for("grid_worker", "T-A-2"), "Idempotency-Key": "t-1"}
    assert client.post("/api/v1/patrols", headers=neighbour,
                       json=track(start)).status_code == 201
    assert db_session.scalar(text("SELECT count(*) FROM patrol_track")) == 3


def test_a_key_in_flight_is_held(client: TestClient, town: dict[str, Path], token_for: Token,
                                 db_session: Session, engine: Engine) -> None:
    worker = token_for("grid_worker", "T-A-1")
    account = db_session.scalar(text("SELECT id FROM account WHERE username = :name"),
                                {"name": "grid_worker-T-A-1"})
    start = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    with engine.connect() as other:
        other.execute(text(
            "INSERT INTO idempotency_key (key, account_id, request_hash, created_at) "
            "VALUES (:key, :account, 'x', now())"), {"key": f"{account}:patrol:t-9",
                                                    "account": account})
        busy = client.post("/api/v1/patrols", headers={**worker, "Idempotency-Key": "t-9"},
                           json=track(start))
        assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
        other.rollback()
    done = client.post("/api/v1/patrols", headers={**worker, "Idempotency-Key": "t-9"},
                       json=track(start))
    assert done.status_code == 201
