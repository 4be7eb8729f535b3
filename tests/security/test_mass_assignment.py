"""Mass assignment, as a table: every server-owned field (status, assignee, version, grids,
deadlines, history, ids, owners…) sent to every write endpoint. Each row must be refused (4xx)
or ignored (what is stored is the server's value), never taken. The table goes to
tests/artifacts/mass_assignment.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from gis_service.attachments.models import IncidentPhoto
from gis_service.auth.models import Account
from gis_service.incidents.models import Incident
from tests.security.conftest import ARTIFACTS, PNG, World

OLD = "2000-01-01T00:00:00+00:00"
T_A_1 = {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}
T_B_2 = {"lon": 120.418, "lat": 30.918, "crs": "wgs84"}

# server-owned incident fields: what a client sends, and the stored column it must not reach
INCIDENT_FIELDS: dict[str, tuple[Any, str]] = {
    "id": (1, "id"), "status": ("closed", "status"),
    "assignee": ({"type": "department", "code": "HB"}, "assignee_code"),
    "assignee_type": ("department", "assignee_type"), "assignee_code": ("HB", "assignee_code"),
    "version": (99, "version"), "town": ("X", "town_code"), "grid2": ("T-B", "grid2_code"),
    "grid3": ("T-B-2", "grid3_code"), "district": ("D2", "district_code"),
    "zones": (["Z9"], "zone_codes"), "special": (["S-X"], "special_codes"),
    "due_at": (OLD, "due_at"), "respond_due_at": (OLD, "respond_due_at"),
    "history_head": ("0" * 64, "history_head"), "history_length": (0, "history_length"),
    "created_at": (OLD, "created_at"), "updated_at": (OLD, "updated_at"),
    "priority": (9, "priority"), "cooperating": (["HB"], "cooperating"),
    "escalation_level": (5, "escalation_level"), "resolution": ("service", "resolution"),
    "satisfaction": (5, "satisfaction"), "candidates": ([{"x": 1}], "candidates"),
    "deadline_state": ("green", "status"), "lon": (120.418, "lon"), "lat": (30.918, "lat"),
}
# Open311's names for the same things (GeoReport v2 response fields sent back in a POST)
OPEN311_FIELDS: dict[str, tuple[Any, str]] = {
    "service_request_id": ("1", "id"), "status": ("closed", "status"),
    "status_notes": ("closed", "status"), "agency_responsible": ("HB", "assignee_code"),
    "requested_datetime": (OLD, "reported_at"), "updated_datetime": (OLD, "updated_at"),
    "expected_datetime": (OLD, "due_at"), "source": ("walk_in", "source"),
    "priority": ("9", "priority"), "assignee_code": ("HB", "assignee_code"),
    "grid3": ("T-B-2", "grid3_code"), "town": ("X", "town_code"),
    "version": ("99", "version"), "escalation_level": ("5", "escalation_level"),
    "cooperating": ("HB", "cooperating"), "external_id": ("forged", "external_id"),
}
PATROL_FIELDS = {"id": 1, "username": "someone-else", "account_id": 1, "worker_code": "W4",
                 "grid_code": "T-B-2", "length_m": 1.0, "point_count": 99,
                 "created_at": OLD}
PING_FIELDS = {"username": "someone-else", "account_id": 1, "worker_code": "W4",
               "grid_code": "T-B-2", "at": OLD}
PLAN_FIELDS = {"id": 999, "owner": "someone-else", "status": "published", "version": 99,
               "grid_count": 0, "based_on_at": OLD, "created_at": OLD, "updated_at": OLD}


@dataclass(frozen=True)
class MassRow:
    """One (endpoint, field) probe: refused (4xx), ignored (the server's value stored) or
    taken (the client's value stored: a failure)."""

    endpoint: str
    field: str
    outcome: str  # "refused 422", "ignored", "TAKEN"
    detail: str = ""


def _same(stored: Any, sent: Any) -> bool:
    """Whether a stored value is the one the client sent."""
    if isinstance(stored, datetime):
        return stored.year == 2000
    if isinstance(sent, dict):
        return stored == sent.get("code")
    if isinstance(stored, list) and isinstance(sent, str):
        return sent in stored
    return str(stored) == str(sent)


def _stored(world: World, incident_id: int) -> Incident:
    with world.factory() as session:
        found = session.get(Incident, incident_id)
        assert found is not None
        return found


def _judge(endpoint: str, field: str, status: int, taken: Callable[[], bool] | None,
           detail: str = "") -> MassRow:
    if 400 <= status < 500:
        return MassRow(endpoint, field, f"refused {status}", detail)
    assert 200 <= status < 300, (endpoint, field, status)
    assert taken is not None
    return MassRow(endpoint, field, "TAKEN" if taken() else "ignored", detail)


# ----------------------------------------------------------------------------------------
def incident_intake(world: World) -> Iterator[MassRow]:
    endpoint = "POST /api/v1/incidents"
    for number, (name, (value, column)) in enumerate(INCIDENT_FIELDS.items()):
        body = {"source": "grid_patrol", "category": "GARBAGE", "external_id": f"ma-{number}",
                "location": T_A_1, name: value}
        with world.rolled_back():
            response = world.client.post("/api/v1/incidents", headers=world.admin(), json=body)
            yield _judge(endpoint, name, response.status_code,
                         lambda r=response, c=column, v=value: _same(
                             getattr(_stored(world, r.json()["id"]), c), v))
    with world.rolled_back():  # a server field inside the location object
        body = {"source": "grid_patrol", "category": "GARBAGE", "external_id": "ma-loc",
                "location": {**T_A_1, "grid3": "T-B-2"}}
        response = world.client.post("/api/v1/incidents", headers=world.admin(), json=body)
        yield _judge(endpoint, "location.grid3", response.status_code,
                     lambda: _stored(world, response.json()["id"]).grid3_code == "T-B-2")


def incident_actions(world: World) -> Iterator[MassRow]:
    endpoint = "POST /api/v1/incidents/{id}/actions"
    target = world.incidents["garbage T-A-1"]
    path = f"/api/v1/incidents/{target['id']}/actions"

    def act(extra: dict[str, Any]) -> Any:
        version = world.incident("garbage T-A-1")["version"]
        return world.client.post(path, json={"action": "escalate", **extra},
                                 headers={**world.admin(), "If-Match": f'"{version}"'})

    for name, (value, column) in INCIDENT_FIELDS.items():
        if name in ("resolution", "satisfaction"):
            continue  # the action's own fields: the semantic rows below
        with world.rolled_back():
            response = act({name: value})
            yield _judge(endpoint, name, response.status_code,
                         lambda c=column, v=value: _same(
                             getattr(_stored(world, target["id"]), c), v))
    # fields the action schema has, sent with an action they do not belong to
    semantic: dict[str, tuple[dict[str, Any], Callable[[Incident], bool]]] = {
        "resolution (not closing)": ({"resolution": "enforcement"},
                                     lambda i: i.resolution == "enforcement"),
        "satisfaction (not evaluating)": ({"satisfaction": 1}, lambda i: i.satisfaction == 1),
        "location (not placing)": ({"location": T_B_2}, lambda i: i.grid3_code == "T-B-2"),
        "to (escalating)": ({"to": "department:HB"}, lambda i: i.assignee_code == "HB"),
    }
    for name, (extra, taken) in semantic.items():
        with world.rolled_back():
            response = act(extra)
            yield _judge(endpoint, name, response.status_code,
                         lambda t=taken: t(_stored(world, target["id"])))


def open311_intake(world: World) -> Iterator[MassRow]:
    endpoint = "POST /open311/v2/requests.json"
    for name, (value, column) in OPEN311_FIELDS.items():
        with world.rolled_back():
            fields = {"service_code": "GARBAGE", "lat": "30.902", "long": "120.402",
                      "description": "mass assignment probe", name: value}
            response = world.client.post("/open311/v2/requests.json", data=fields)

            def taken(r: Any = response, c: str = column, v: Any = value) -> bool:
                made = _stored(world, int(r.json()[0]["service_request_id"]))
                return _same(getattr(made, c), v)

            yield _judge(endpoint, name, response.status_code, taken)


def patrols(world: World) -> Iterator[MassRow]:
    walker = world.accounts["grid_worker T-A-1"].headers
    base = {"crs": "wgs84", "points": [[120.401, 30.905], [120.402, 30.905]]}
    for name, value in PATROL_FIELDS.items():
        with world.rolled_back():
            response = world.client.post("/api/v1/patrols", headers=walker,
                                         json={**base, name: value})
            yield _judge("POST /api/v1/patrols", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(r.json().get(n), v))
    for name, value in PING_FIELDS.items():
        with world.rolled_back():
            response = world.client.post("/api/v1/patrols/ping", headers=walker,
                                         json={"lon": 120.401, "lat": 30.905, name: value})
            yield _judge("POST /api/v1/patrols/ping", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(
                             r.json()["properties"].get(n), v))


def photos(world: World) -> Iterator[MassRow]:
    incident = world.incidents["garbage T-A-1"]
    forged = {"taken_by": "someone-else", "incident_id": str(world.incidents["flood T-A-2"]["id"]),
              "sha256": "0" * 64, "content_type": "image/jpeg", "size_bytes": "1",
              "created_at": OLD}
    worker = world.accounts["grid_worker T-A-1"]
    for name, value in forged.items():
        with world.rolled_back():
            response = world.client.post(
                f"/api/v1/incidents/{incident['id']}/photos", headers=worker.headers,
                data={name: value}, files={"file": ("p.png", PNG, "image/png")})

            def taken(r: Any = response, n: str = name, v: Any = value) -> bool:
                with world.factory() as session:
                    photo = session.scalar(select(IncidentPhoto).where(
                        IncidentPhoto.id == r.json()["id"]))
                    assert photo is not None
                    stored = {"taken_by": photo.taken_by, "incident_id": photo.incident_id,
                              "sha256": photo.sha256, "content_type": photo.content_type,
                              "size_bytes": photo.size_bytes, "created_at": photo.created_at}
                return _same(stored[n], v)

            yield _judge("POST /api/v1/incidents/{id}/photos", name, response.status_code,
                         taken)


def login(world: World) -> Iterator[MassRow]:
    """Extra form fields cannot give a session another role or scope."""
    account = world.accounts["grid_worker T-A-1"]
    for name, value in (("role", "admin"), ("scope_code", "T"), ("scope", "T"),
                        ("account_id", "1"), ("username_override", "sec-admin")):
        world.client.cookies.clear()
        response = world.client.post("/login", data={
            "username": account.username, "password": "s3cret-pw-" + account.username,
            name: value})
        seen = world.client.get("/api/v1/incidents").json()["items"] \
            if response.status_code == 200 else []
        world.client.cookies.clear()
        yield _judge("POST /login", name, response.status_code,
                     lambda s=seen: {i["id"] for i in s}
                     != {world.incidents["garbage T-A-1"]["id"]},
                     "the session's view checked: the worker's one incident")


def plans(world: World) -> Iterator[MassRow]:
    if world.plan_id is None:
        return
    client, admin, base = world.client, world.admin(), f"/api/v1/plans/{world.plan_id}"
    for name, value in PLAN_FIELDS.items():
        with world.rolled_back():
            response = client.post("/api/v1/plans", headers=admin,
                                   json={"name": "ma", name: value})
            yield _judge("POST /api/v1/plans", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(r.json().get(n), v))
        with world.rolled_back():
            response = client.patch(base, headers={**admin, "If-Match":
                                                   f'"{world.plan_version()}"'},
                                    json={"note": "ma", name: value})
            yield _judge("PATCH /api/v1/plans/{id}", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(r.json().get(n), v))
    grids = {"plan_id": 999, "changed": True, "source_version": 1, "valid_from": OLD,
             "version": 99}
    for name, value in grids.items():
        for where in ("properties", "feature"):
            with world.rolled_back():
                feature = world.plan_grid()
                if where == "properties":
                    feature["properties"][name] = value
                else:
                    feature[name] = value
                response = client.put(f"{base}/grids/T-A-1", json=feature, headers={
                    **admin, "If-Match": f'"{world.plan_version()}"'})
                yield _judge("PUT /api/v1/plans/{id}/grids/{code}", f"{where}.{name}",
                             response.status_code,
                             lambda r=response, n=name, v=value: _same(
                                 r.json()["properties"].get(n), v))
    with world.rolled_back():  # a code in the body other than the path's
        feature = world.plan_grid()
        feature["properties"]["code"] = "T-B-2"
        response = client.put(f"{base}/grids/T-A-1", json=feature, headers={
            **admin, "If-Match": f'"{world.plan_version()}"'})
        yield _judge("PUT /api/v1/plans/{id}/grids/{code}", "properties.code (≠ path)",
                     response.status_code,
                     lambda r=response: r.json()["properties"].get("code") == "T-B-2")
    for name, value in (("published_by", "someone-else"), ("published_at", OLD),
                        ("plan_id", 999), ("id", 999)):
        with world.rolled_back():
            feature = world.plan_grid()
            feature["properties"]["name"] = "改名"
            renamed = client.put(f"{base}/grids/T-A-1", json=feature, headers={
                **admin, "If-Match": f'"{world.plan_version()}"'})
            assert renamed.status_code == 200, renamed.text
            response = client.post(f"{base}/publish", headers={
                **admin, "If-Match": f'"{world.plan_version()}"'}, json={
                "effective_from": "2099-01-01T00:00:00+08:00", name: value})
            yield _judge("POST /api/v1/plans/{id}/publish", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(r.json().get(n), v))
    for name, value in (("owner", "someone-else"), ("status", "published"), ("id", 999),
                        ("source_plan_id", 999), ("version", 99)):
        with world.rolled_back():
            response = client.post(f"{base}/rebalance", headers=admin, json={name: value})
            yield _judge("POST /api/v1/plans/{id}/rebalance", name, response.status_code,
                         lambda r=response, n=name, v=value: _same(r.json().get(n), v))
    for name, value in (("owner", "someone-else"), ("status", "published"), ("version", "99")):
        with world.rolled_back():
            response = client.post("/api/v1/plans/import", headers=admin, data={name: value},
                                   files={"file": ("plan.geojson",
                                                   world.town_files["grids"].read_bytes(),
                                                   "application/geo+json")})

            def taken(r: Any = response, n: str = name, v: Any = value) -> bool:
                made = client.get(f"/api/v1/plans/{r.json()['id']}", headers=admin).json()
                return _same(made.get(n), v)

            yield _judge("POST /api/v1/plans/import", name, response.status_code, taken)


ACCOUNT_FIELDS = {"id": 1, "password_hash": "$argon2id$forged", "created_at": OLD,
                  "has_password": True, "token": "forged", "account_id": 1}


def _account(world: World, username: str) -> Account | None:
    with world.factory() as session:
        return session.scalar(select(Account).where(Account.username == username))


def accounts(world: World) -> Iterator[MassRow]:
    """Server-owned account fields to the admin's routes; role, scope or another name to a
    user's own password change."""
    client, admin = world.client, world.admin()
    target = world.username("grid_worker T-A-1")
    for name, value in ACCOUNT_FIELDS.items():
        with world.rolled_back():
            response = client.post("/api/v1/accounts", headers=admin,
                                   json={"username": "sec-ma", "role": "planner", name: value})
            yield _judge("POST /api/v1/accounts", name, response.status_code,
                         lambda n=name, v=value: _same(getattr(_account(world, "sec-ma"), n,
                                                               None), v))
        with world.rolled_back():
            response = client.patch(f"/api/v1/accounts/{target}", headers=admin,
                                    json={"disabled": False, name: value})
            yield _judge("PATCH /api/v1/accounts/{username}", name, response.status_code,
                         lambda n=name, v=value: _same(getattr(_account(world, target), n,
                                                               None), v))
    walker = world.accounts["grid_worker T-A-1"]
    for name, value in (("role", "admin"), ("scope_code", "T"), ("username", "sec-admin"),
                        ("disabled", False), ("worker_code", "W4")):
        with world.rolled_back():
            response = client.post("/api/v1/me/password", headers=walker.headers, json={
                "current_password": "s3cret-pw-" + walker.username,
                "new_password": "Probe-lakeshore-2026", name: value})
            yield _judge("POST /api/v1/me/password", name, response.status_code,
                         lambda n=name, v=value: _same(getattr(_account(world, target), n,
                                                               None), v))


TABLES = (incident_intake, incident_actions, open311_intake, patrols, photos, login, plans,
          accounts)


@pytest.fixture(scope="module")
def mass_rows(world: World) -> list[MassRow]:
    made = [row for table in TABLES for row in table(world)]
    write_table(world, made)
    return made


def test_no_server_owned_field_is_taken(mass_rows: list[MassRow]) -> None:
    taken = [(r.endpoint, r.field) for r in mass_rows if r.outcome == "TAKEN"]
    assert not taken, taken


def test_the_table_covers_every_write_endpoint(world: World, mass_rows: list[MassRow]) -> None:
    endpoints = {r.endpoint for r in mass_rows}
    wanted = {"POST /api/v1/incidents", "POST /api/v1/incidents/{id}/actions",
              "POST /open311/v2/requests.json", "POST /api/v1/patrols",
              "POST /api/v1/patrols/ping", "POST /api/v1/incidents/{id}/photos", "POST /login",
              "POST /api/v1/accounts", "PATCH /api/v1/accounts/{username}",
              "POST /api/v1/me/password"}
    if world.plan_id is not None:
        wanted |= {"POST /api/v1/plans", "PATCH /api/v1/plans/{id}",
                   "PUT /api/v1/plans/{id}/grids/{code}", "POST /api/v1/plans/{id}/publish",
                   "POST /api/v1/plans/import", "POST /api/v1/plans/{id}/rebalance"}
    assert wanted <= endpoints, wanted - endpoints


def write_table(world: World, rows: list[MassRow]) -> None:
    """tests/artifacts/mass_assignment.md."""
    refused = sum(1 for r in rows if r.outcome.startswith("refused"))
    ignored = sum(1 for r in rows if r.outcome == "ignored")
    taken = sum(1 for r in rows if r.outcome == "TAKEN")
    lines = ["# Mass assignment", "",
             "Written by `tests/security/test_mass_assignment.py` (re-run: "
             "`.venv/bin/pytest tests/security/test_mass_assignment.py`). Each server-owned "
             "field sent to each write endpoint: **refused** (4xx, the request changes "
             "nothing) or **ignored** (accepted, and what is stored is the server's value); "
             "**TAKEN** would be a failure.", "",
             f"{len(rows)} rows: {refused} refused, {ignored} ignored, **{taken} taken**.", "",
             "| endpoint | fields refused | fields ignored | taken |", "| --- | --- | --- | --- |"]
    for endpoint in dict.fromkeys(r.endpoint for r in rows):
        here = [r for r in rows if r.endpoint == endpoint]
        by = {kind: ", ".join(f"`{r.field}`" for r in here if r.outcome.startswith(kind))
              for kind in ("refused", "ignored", "TAKEN")}
        statuses = sorted({r.outcome.split()[1] for r in here if r.outcome.startswith("refused")})
        refused_text = f"({'/'.join(statuses)}) {by['refused']}" if by["refused"] else "–"
        lines.append(f"| {endpoint} | {refused_text} | {by['ignored'] or '–'} | "
                     f"{by['TAKEN'] or '0'} |")
    notes = sorted({f"- {r.endpoint}: {r.detail}" for r in rows if r.detail})
    lines += ["", *notes] if notes else []
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "mass_assignment.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
