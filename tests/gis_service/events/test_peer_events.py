"""The route a peer platform's events come in by takes no bearer token: each event must carry
the peer's Standard Webhooks signature, and is applied once per webhook-id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from gis_service.events.subscriptions import new_secret

Headers = dict[str, str]


def _event(incident_id: int) -> dict[str, Any]:
    """The county's dispatch of its ticket down to town T, as its platform sends it."""
    return {"type": "incident.updated", "timestamp": datetime.now(UTC).isoformat(), "data": {
        "incident": {"id": incident_id, "status": "dispatched", "source": "hotline_12345",
                     "category": "GARBAGE", "description": "桥下垃圾", "address": None,
                     "lon": 120.402, "lat": 30.902, "due_at": "2030-01-01T00:00:00+08:00",
                     "assignee": {"type": "town", "code": "T", "name": None}, "version": 3},
        "change": {"action": "dispatch", "note": ""}}}


def _signed(secret: str, uid: str, event: dict[str, Any]) -> tuple[bytes, Headers]:
    body = orjson.dumps(event)
    now = datetime.now(UTC)
    return body, {"webhook-id": uid, "webhook-timestamp": str(int(now.timestamp())),
                  "webhook-signature": Webhook(secret).sign(uid, now, body),
                  "content-type": "application/json"}


def test_a_peer_event_needs_the_peer_signature_and_counts_once(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    secret = new_secret()
    added = client.post("/api/v1/peers", headers=auth,
                        json={"code": "WJ", "kind": "county", "secret": secret})
    assert added.status_code == 201, added.text
    assert "secret" not in added.json()
    route = "/api/v1/peers/WJ/events"

    body, headers = _signed(new_secret(), "msg_forged", _event(41))  # someone else's key
    forged = client.post(route, content=body, headers=headers)
    assert forged.status_code == 401 and "WJ" in forged.json()["detail"]
    unknown = client.post("/api/v1/peers/XX/events", content=body, headers=headers)
    assert unknown.status_code == 404
    body, headers = _signed(secret, "msg_1", _event(41))
    tampered = client.post(route, content=body.replace(b"GARBAGE", b"FLOOD"), headers=headers)
    assert tampered.status_code == 401
    assert client.get("/api/v1/incidents", headers=auth).json()["items"] == []

    taken = client.post(route, content=body, headers=headers)
    assert taken.status_code == 200 and taken.json()["outcome"].startswith("taken in as #")
    again = client.post(route, content=body, headers=headers)
    assert again.json() == {"outcome": "already taken in"}
    [ticket] = client.get("/api/v1/incidents", headers=auth).json()["items"]
    assert (ticket["source"], ticket["parent_ticket_id"]) == ("county_ticket", "WJ:41")
    # the same ticket sent again under a new id (the county re-dispatched it): still one here
    body, headers = _signed(secret, "msg_2", _event(41))
    assert client.post(route, content=body, headers=headers).json()["outcome"].startswith(
        "already here as #")
    wrong_kind = client.post("/api/v1/peers", headers=auth,
                             json={"code": "NOPE", "kind": "town", "secret": secret})
    assert wrong_kind.status_code == 422 and "NOPE" in wrong_kind.json()["detail"]
