"""Photos from the field: recognised by their bytes, size-limited, scoped, and each upload
chained into the incident's verifiable history."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.incidents.audit import verify_all

Token = Callable[..., dict[str, str]]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def new(client: TestClient, auth: dict[str, str], lon: float = 120.402,
        lat: float = 30.902) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "grid_patrol", "category": "GARBAGE",
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
    assert response.status_code == 201, response.text
    return response.json()


def upload(client: TestClient, headers: dict[str, str], incident_id: int, data: bytes,
           name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:
    return client.post(f"/api/v1/incidents/{incident_id}/photos", headers=headers,
                       files={"file": (name, data, content_type)})


@pytest.mark.parametrize("data, content_type", [
    (JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_a_worker_attaches_a_photo_recorded_in_the_history(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        db_session: Session, data: bytes, content_type: str) -> None:
    worker = token_for("grid_worker", "T-A-1")
    incident = new(client, auth)
    # the name and the declared type do not count: the bytes do
    response = upload(client, worker, incident["id"], data, "x.bin", "application/octet-stream")
    assert response.status_code == 201, response.text
    photo = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert photo["content_type"] == content_type and photo["size"] == len(data)
    assert photo["sha256"] == digest and photo["taken_by"] == "grid_worker-T-A-1"
    assert photo["url"] == f"/api/v1/photos/{photo['id']}"

    listed = client.get(f"/api/v1/incidents/{incident['id']}/photos", headers=worker).json()
    assert [p["id"] for p in listed] == [photo["id"]]
    got = client.get(photo["url"], headers=worker)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == content_type

    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert history[-1]["action"] == "attach_photo"
    assert history[-1]["actor"] == "grid_worker-T-A-1"
    assert history[-1]["detail"]["sha256"] == digest
    assert list(verify_all(db_session)) == []
    # the version is unchanged: the worker can still act on what they saw
    accepted = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**worker, "If-Match": f'"{incident["version"]}"'},
                           json={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    assert list(verify_all(db_session)) == []


def test_the_audit_command_passes_on_photo_chains(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from gis_service import cli

    incident = new(client, auth)
    for data in (JPEG, PNG):
        assert upload(client, auth, incident["id"], data).status_code == 201

    class Here:  # the command's session, on the test's transaction
        def __enter__(self) -> Session:
            return db_session

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(cli, "_session", lambda: Here())
    result = CliRunner().invoke(cli.app, ["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_other_files_are_refused(client: TestClient, town: dict[str, Path],
                                 auth: dict[str, str], db_session: Session) -> None:
    incident = new(client, auth)
    for data in (b"GIF89a" + b"\x00" * 32, b"%PDF-1.7", b"", b"RIFF\x00\x00\x00\x00WAVE"):
        response = upload(client, auth, incident["id"], data)
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == "application/problem+json"
    too_big = JPEG + b"\x00" * (8 * 1024 * 1024)
    response = upload(client, auth, incident["id"], too_big)
    assert response.status_code == 413, response.text
    history = client.get(f"/api/v1/incidents/{incident['id']}/history", headers=auth).json()
    assert "attach_photo" not in [h["action"] for h in history]
    assert client.get(f"/api/v1/incidents/{incident['id']}/photos", headers=auth).json() == []


def test_photos_follow_the_incident_scope(client: TestClient, town: dict[str, Path],
                                          auth: dict[str, str], token_for: Token) -> None:
    incident = new(client, auth)  # in T-A-1
    photo = upload(client, auth, incident["id"], PNG).json()
    neighbour = token_for("grid_worker", "T-B-2")
    assert upload(client, neighbour, incident["id"], PNG).status_code == 404
    assert client.get(f"/api/v1/incidents/{incident['id']}/photos",
                      headers=neighbour).status_code == 404
    assert client.get(photo["url"], headers=neighbour).status_code == 404
    assert client.get(photo["url"]).status_code == 401
    assert upload(client, auth, 999_999_999, PNG).status_code == 404
    assert client.get(photo["url"], headers=token_for("grid_worker", "T-A-1")).status_code == 200
