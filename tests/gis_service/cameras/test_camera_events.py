"""Camera events through the intake (POST /api/v1/incidents with `camera_code`, `scene`,
`confidence`): placed at the camera (or the event's own point), routed by the scene's
category; repeats within the window fold into the open incident (200, its `detections` and
`last_seen_at` grow, one hash-chained history row each); a detection that is unsure, too early
or of a scene a person must confirm waits in `needs_confirmation` for `confirm` or `reject`.
Each flow runs with the group-commit writer on and off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gis_service.config import Settings
from gis_service.events.models import Message, Subscription
from gis_service.incidents import audit
from gis_service.incidents.models import Incident
from gis_service.main import create_app
from tests.gis_service.cameras.conftest import EAST, WEST
from tests.town import handler

TokenFor = Callable[[str, str | None], dict[str, str]]
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["group commit", "one at a time"])
def client(request: pytest.FixtureRequest,
           session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The HTTP service on the test's transaction, with the group-commit writer on or off."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        intake_batch_max=64 if request.param == "group commit" else 0)
    with TestClient(create_app(settings, session_factory=session_factory)) as test_client:
        yield test_client


def detect(client: TestClient, auth: dict[str, str], *, camera: str = WEST,
           scene: str = "暴露垃圾", confidence: float | None = 0.9,
           at: datetime | None = None, **more: Any) -> Any:
    """Post one camera event; the response."""
    body: dict[str, Any] = {"source": "video", "camera_code": camera, "scene": scene, **more}
    if confidence is not None:
        body["confidence"] = confidence
    if at is not None:
        body["reported_at"] = at.isoformat()
    return client.post("/api/v1/incidents", headers=auth, json=body)


def history(client: TestClient, auth: dict[str, str], incident_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/incidents/{incident_id}/history", headers=auth)
    assert response.status_code == 200
    return list(response.json())


def act(client: TestClient, auth: dict[str, str], incident: dict[str, Any], action: str,
        **more: Any) -> Any:
    return client.post(f"/api/v1/incidents/{incident['id']}/actions",
                       headers={**auth, "If-Match": f'"{incident["version"]}"'},
                       json={"action": action, **more})


def test_a_camera_event_lands_at_the_camera_routed_by_its_scene(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    response = detect(client, auth, at=T0)
    assert response.status_code == 201, response.text
    incident = response.json()
    assert (incident["lon"], incident["lat"]) == (120.402, 30.902)  # the west camera
    assert incident["grid3"] == "T-A-1" and incident["category"] == "GARBAGE"
    assert incident["status"] == "dispatched" and handler(incident) == ("grid_worker", "W1")
    assert incident["camera_code"] == WEST and incident["scene"] == "暴露垃圾"
    assert incident["detections"] == 1 and incident["confidence"] == 0.9
    assert incident["last_seen_at"] == incident["reported_at"] == "2026-05-01T09:00:00Z"
    assert "西村路口" in incident["description"]
    rows = history(client, auth, incident["id"])
    assert [r["action"] for r in rows] == ["report", "dispatch"]
    assert rows[0]["detail"]["camera"] == WEST and rows[0]["detail"]["placed"] == "camera"
    # the event's own point wins over the camera's; a category that agrees is accepted
    there = detect(client, auth, camera=EAST, category="GARBAGE",
                   location={"lon": 120.412, "lat": 30.902})
    assert there.status_code == 201, there.text
    assert there.json()["grid3"] == "T-B-1" and there.json()["camera_code"] == EAST
    assert handler(there.json()) == ("grid_worker", "W4")  # W3 is away: the B post


def test_thirty_repeats_make_one_incident_with_a_count_of_thirty_one(
        client: TestClient, scenes: Path, auth: dict[str, str], db_session: Session) -> None:
    first = detect(client, auth, at=T0).json()
    for minute in range(1, 31):  # a minute apart: each within the window of the one before
        again = detect(client, auth, at=T0 + timedelta(minutes=minute),
                       confidence=0.5 + minute / 100)
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first["id"]
        assert again.json()["detections"] == minute + 1
    incident = client.get(f"/api/v1/incidents/{first['id']}", headers=auth).json()
    assert incident["detections"] == 31
    assert incident["last_seen_at"] == "2026-05-01T09:30:00Z"
    assert incident["confidence"] == 0.9  # the surest detection's
    assert incident["version"] == first["version"]  # a fold moves no field an action decides
    rows = history(client, auth, first["id"])
    assert [r["action"] for r in rows] == ["report", "dispatch"] + ["detect"] * 30
    assert [r["detail"]["detections"] for r in rows[2:]] == list(range(2, 32))
    assert db_session.scalar(select(Incident.detections).where(Incident.id == first["id"])) == 31
    assert len(db_session.scalars(select(Incident.id)).all()) == 1
    assert list(audit.verify_all(db_session)) == []


def test_after_the_window_or_once_solved_a_detection_is_a_new_incident(
        client: TestClient, scenes: Path, auth: dict[str, str], token_for: TokenFor) -> None:
    first = detect(client, auth, at=T0).json()
    assert detect(client, auth, at=T0 + timedelta(minutes=30)).status_code == 200
    later = detect(client, auth, at=T0 + timedelta(minutes=61))  # 31 minutes after the last
    assert later.status_code == 201 and later.json()["id"] != first["id"]
    # another camera, or another scene of the same camera, is another incident
    assert detect(client, auth, camera=EAST, at=T0).status_code == 201
    assert detect(client, auth, scene="店外经营", at=T0).status_code == 201
    # the handler reports it solved: the camera seeing it again is a new matter
    worker = token_for("grid_worker", "T-A-1")
    current = later.json()
    for action in ("accept", "resolve"):
        moved = act(client, worker, current, action)
        assert moved.status_code == 200, moved.text
        current = moved.json()
    again = detect(client, auth, at=T0 + timedelta(minutes=62))
    assert again.status_code == 201 and again.json()["id"] != current["id"]


def test_a_low_confidence_detection_waits_until_confirmed_or_rejected(
        client: TestClient, scenes: Path, auth: dict[str, str], token_for: TokenFor,
        db_session: Session) -> None:
    db_session.add(Subscription(url="https://hooks.example/in", secret="s",
                                events=["incident.created", "incident.updated"],
                                enabled=True, created_at=T0, created_by="admin"))
    db_session.commit()
    waiting = detect(client, auth, confidence=0.3, at=T0)
    assert waiting.status_code == 201, waiting.text
    incident = waiting.json()
    assert incident["status"] == "needs_confirmation" and incident["assignee"] is None
    rows = history(client, auth, incident["id"])
    assert [r["action"] for r in rows] == ["report", "needs_confirmation"]
    assert rows[1]["detail"]["reason"] == "below the scene's confidence"
    # the wait is on the command center's queue; a grid worker can neither see nor confirm it
    queue = client.get("/api/v1/incidents", headers=auth, params={"queue": "awaiting"})
    assert [i["id"] for i in queue.json()["items"]] == [incident["id"]]
    worker = token_for("grid_worker", "T-A-1")
    assert act(client, worker, incident, "confirm").status_code in (403, 404)
    # another unsure detection folds in and it still waits
    folded = detect(client, auth, confidence=0.2, at=T0 + timedelta(minutes=1))
    assert folded.status_code == 200 and folded.json()["status"] == "needs_confirmation"
    dispatcher = token_for("dispatcher", None)
    confirmed = act(client, dispatcher, incident, "confirm", note="看过画面，属实")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "dispatched"
    assert handler(confirmed.json()) == ("grid_worker", "W1")
    assert confirmed.json()["due_at"] is not None
    assert act(client, dispatcher, confirmed.json(), "confirm").status_code == 409
    rows = history(client, auth, incident["id"])
    assert [r["action"] for r in rows] == ["report", "needs_confirmation", "detect", "confirm"]
    assert rows[-1]["detail"]["rule"] == "GARBAGE"
    # the fold and the confirmation went out as incident.updated, like any action
    sent = db_session.scalars(select(Message.type).where(
        Message.incident_id == incident["id"]).order_by(Message.id)).all()
    assert sent == ["incident.created", "incident.updated", "incident.updated"]
    # one the center rejects is closed; the next detection opens a new one
    other = detect(client, auth, camera=EAST, confidence=0.1, at=T0).json()
    rejected = act(client, dispatcher, other, "reject", note="画面中为落叶")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert detect(client, auth, camera=EAST, confidence=0.1,
                  at=T0 + timedelta(minutes=1)).json()["id"] != other["id"]
    assert list(audit.verify_all(db_session)) == []


def test_a_stall_is_flagged_once_it_has_stayed_its_dwell_time(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    first = detect(client, auth, scene="店外经营", confidence=0.8, at=T0).json()
    assert first["status"] == "needs_confirmation"
    a_minute = detect(client, auth, scene="店外经营", confidence=0.8,
                      at=T0 + timedelta(seconds=60)).json()
    assert a_minute["status"] == "needs_confirmation"
    unsure = detect(client, auth, scene="店外经营", confidence=0.4,
                    at=T0 + timedelta(seconds=200)).json()
    assert unsure["status"] == "needs_confirmation"  # stayed long enough, but not sure enough
    stayed = detect(client, auth, scene="店外经营", confidence=0.8,
                    at=T0 + timedelta(seconds=240))
    assert stayed.status_code == 200
    routed = stayed.json()
    assert routed["id"] == first["id"] and routed["detections"] == 4
    assert routed["status"] == "dispatched" and handler(routed) == ("squad", "Q1")
    assert routed["version"] == first["version"] + 1
    rows = history(client, auth, first["id"])
    assert [(r["actor"], r["action"]) for r in rows][-2:] == [("admin", "detect"),
                                                              ("system", "confirm")]
    assert rows[-1]["detail"]["reason"] == "seen again, sure enough and long enough"


def test_a_scene_a_person_must_confirm_waits_whatever_the_detections(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    first = detect(client, auth, scene="gb28181:6", confidence=None, at=T0).json()
    assert first["status"] == "needs_confirmation" and first["confidence"] == 1.0
    later = detect(client, auth, scene="gb28181:6", confidence=None,
                   at=T0 + timedelta(minutes=20)).json()
    assert later["id"] == first["id"] and later["status"] == "needs_confirmation"
    assert "入侵检测报警" in first["description"]


def test_a_detection_sent_again_is_counted_once(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    first = detect(client, auth, at=T0, external_id="EV-1").json()
    for _ in range(2):
        assert detect(client, auth, at=T0, external_id="EV-1").json()["detections"] == 1
    for _ in range(2):
        again = detect(client, auth, at=T0 + timedelta(minutes=1), external_id="EV-2")
        assert again.status_code == 200 and again.json()["id"] == first["id"]
        assert again.json()["detections"] == 2


@pytest.mark.parametrize(("body", "named"), [
    ({"camera_code": "32050900001320009999"}, "32050900001320009999"),
    ({"scene": "沿街晾晒"}, "沿街晾晒"),
    ({"category": "BUILDING"}, "BUILDING"),
])
def test_an_event_the_service_cannot_place_or_name_is_refused(
        client: TestClient, scenes: Path, auth: dict[str, str], body: dict[str, str],
        named: str) -> None:
    event = {"source": "video", "camera_code": WEST, "scene": "暴露垃圾", **body}
    response = client.post("/api/v1/incidents", headers=auth, json=event)
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"]


@pytest.mark.parametrize("body", [
    {"source": "hotline_12345", "camera_code": WEST, "scene": "暴露垃圾"},
    {"source": "video", "camera_code": WEST},
    {"source": "video", "scene": "暴露垃圾", "category": "GARBAGE"},
    {"source": "video", "camera_code": "3205", "scene": "暴露垃圾"},
    {"source": "video", "camera_code": WEST, "scene": "暴露垃圾", "confidence": 1.5},
])
def test_camera_fields_come_together_from_a_camera(
        client: TestClient, scenes: Path, auth: dict[str, str], body: dict[str, Any]) -> None:
    assert client.post("/api/v1/incidents", headers=auth, json=body).status_code == 422


def test_a_typed_in_video_report_is_an_ordinary_incident(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    body = {"source": "video", "category": "GARBAGE",
            "location": {"lon": 120.402, "lat": 30.902}}
    first = client.post("/api/v1/incidents", headers=auth, json=body).json()
    second = client.post("/api/v1/incidents", headers=auth, json=body).json()
    assert first["id"] != second["id"] and first["detections"] is None


def test_a_snapshot_follows_as_a_photo_with_the_photo_rules(
        client: TestClient, scenes: Path, auth: dict[str, str]) -> None:
    # the event's answer names the incident; its snapshot goes to the incident's photos, as
    # a field photo does (type by content, size limit), a repeat's as well
    first = detect(client, auth, at=T0).json()
    again = detect(client, auth, at=T0 + timedelta(minutes=1)).json()
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    for incident in (first, again):
        sent = client.post(f"/api/v1/incidents/{incident['id']}/photos", headers=auth,
                           files={"file": ("snapshot.jpg", jpeg, "image/jpeg")})
        assert sent.status_code == 201, sent.text
    refused = client.post(f"/api/v1/incidents/{first['id']}/photos", headers=auth,
                          files={"file": ("snapshot.jpg", b"GIF89a" + b"\x00" * 16,
                                          "image/jpeg")})
    assert refused.status_code == 415
    actions = [r["action"] for r in history(client, auth, first["id"])]
    assert actions == ["report", "dispatch", "detect", "attach_photo", "attach_photo"]
