"""Repair within tolerance on a draft (POST /plans/{id}/repair) and on a plan imported from a
file: the same repair as `import grids --repair`, as one edit that undo takes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bench.boundary_noise import rounded
from tests.gis_service.imports.test_grid_repair import write
from tests.grid_layers.test_repair import EXACT

Headers = dict[str, str]


def imported(client: TestClient, auth: Headers, path: Path, **form: Any) -> Any:
    """POST the file as a plan."""
    with path.open("rb") as handle:
        return client.post("/api/v1/plans/import", headers=auth, data=form,
                           files={"file": (path.name, handle.read())})


def validation(client: TestClient, auth: Headers, plan: int) -> Any:
    answer = client.get(f"/api/v1/plans/{plan}/validation", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_draft_with_slivers_is_repaired_and_undone(client: TestClient, db_session: Session,
                                                    auth: Headers, tmp_path: Path) -> None:
    made = imported(client, auth, write(tmp_path / "town.geojson", EXACT, 6))
    assert made.status_code == 201, made.text
    plan, version = made.json()["id"], made.json()["version"]
    before = validation(client, auth, plan)
    assert not before["valid"] and before["repairable"] == len(before["problems"]) >= 2
    url = f"/api/v1/plans/{plan}/repair"
    assert client.post(url, headers=auth).status_code == 428
    assert client.post(url, headers={**auth, "If-Match": '"99"'}).status_code == 412
    too_far = client.post(url, headers={**auth, "If-Match": f'"{version}"'},
                          json={"tolerance_m": 50})
    assert too_far.status_code == 422 and too_far.headers["content-type"].startswith(
        "application/problem+json")
    answer = client.post(url, headers={**auth, "If-Match": f'"{version}"'}, json={})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert answer.headers["ETag"] == f'"{version + 1}"' == f'"{body["plan"]["version"]}"'
    assert body["tolerance_m"] == 0.5
    kinds = {r["kind"] for r in body["repairs"]}
    assert {"snapped", "clipped_to_parent"} <= kinds
    assert all(r["location"] and r["shift_m"] <= 0.5 and r["message"] for r in body["repairs"])
    assert validation(client, auth, plan) == {"valid": True, "problems": [], "repairable": 0}
    log = client.get(f"/api/v1/plans/{plan}/edits", headers=auth).json()
    assert log[-1]["operation"] == "repair" and log[-1]["detail"]["tolerance_m"] == 0.5
    undone = client.post(f"/api/v1/plans/{plan}/undo",
                         headers={**auth, "If-Match": f'"{version + 1}"'})
    assert undone.status_code == 200, undone.text
    assert len(validation(client, auth, plan)["problems"]) == len(before["problems"])


def test_a_valid_draft_is_left_alone(client: TestClient, auth: Headers, tmp_path: Path) -> None:
    made = imported(client, auth, write(tmp_path / "town.geojson", EXACT))
    plan, version = made.json()["id"], made.json()["version"]
    answer = client.post(f"/api/v1/plans/{plan}/repair",
                         headers={**auth, "If-Match": f'"{version}"'})
    assert answer.status_code == 200 and answer.json()["repairs"] == []
    assert answer.headers["ETag"] == f'"{version}"'  # nothing changed, no edit logged
    assert client.get(f"/api/v1/plans/{plan}/edits", headers=auth).json() == []


def test_a_file_with_folded_rings_is_refused_then_imported_repaired(
        client: TestClient, auth: Headers, tmp_path: Path) -> None:
    path = write(tmp_path / "town.geojson", rounded(EXACT, 5), 15)
    refused = imported(client, auth, path)
    assert refused.status_code == 422
    assert refused.json()["repairable"] is True and "容差内修复" in refused.json()["detail"]
    made = imported(client, auth, path, repair="true", tolerance_m="1")
    assert made.status_code == 201, made.text
    assert "made_valid" in {r["kind"] for r in made.json()["repairs"]}
    assert validation(client, auth, made.json()["id"])["valid"]
