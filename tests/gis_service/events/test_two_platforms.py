"""A county's platform and a town's, deployed apart on one machine (two services, two
databases), joined by nothing but subscriptions and peers (区镇互联互通): a ticket the county
sends down arrives in the town as a county_ticket; the town's handling comes back into the
county's history and the county's ticket follows it; an escalation in the town lands at the
county center."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_service.auth import service as auth_service
from gis_service.config import Settings
from gis_service.imports.service import run_import
from gis_service.incidents.audit import verify_all
from gis_service.main import create_app
from tests.conftest import _scratch_database
from tests.gis_service.incidents.test_county_tier import IN_T, county_files
from tests.map_ui.fixtures import serving
from tests.town import handler, write_town


def _settings(url: str) -> Settings:
    return Settings(database_url=url, locator_refresh_seconds=0, escalation_interval_seconds=0,
                    webhook_poll_seconds=0.1, webhook_allowed_hosts="127.0.0.1",
                    webhook_retry_seconds="0.5,1,1,2")


def _load(url: str, files: dict[str, Path], kinds: tuple[str, ...]) -> str:
    """Import the files; an admin's token."""
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            for kind in kinds:
                report = run_import(session, kind, files[kind])
                assert report.accepted, report.lines()
            auth_service.add_account(session, username="admin", role="admin")
            token = auth_service.issue_token(session, username="admin")
            session.commit()
    finally:
        engine.dispose()
    return token


@pytest.fixture()
def platforms(engine: Engine, tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client,
                                                                str]]:
    """(the county's API as its admin, the town's API as its admin, the county's db url)."""
    with ExitStack() as stack:
        for side in ("county", "town"):
            (tmp_path / side).mkdir()
        county_url = stack.enter_context(_scratch_database(engine))
        town_url = stack.enter_context(_scratch_database(engine))
        county_token = _load(county_url, county_files(tmp_path / "county"),
                             ("grids", "departments", "workers", "responsibilities"))
        town_token = _load(town_url, write_town(tmp_path / "town"),
                           ("grids", "districts", "departments", "workers",
                            "responsibilities"))
        county_origin = stack.enter_context(serving(create_app(_settings(county_url))))
        town_origin = stack.enter_context(serving(create_app(_settings(town_url))))
        county = stack.enter_context(httpx.Client(
            base_url=county_origin, headers={"Authorization": f"Bearer {county_token}"}))
        town = stack.enter_context(httpx.Client(
            base_url=town_origin, headers={"Authorization": f"Bearer {town_token}"}))
        # down: the county tells the town's platform what it sends to town T …
        down = county.post("/api/v1/subscriptions", json={
            "url": f"{town_origin}/api/v1/peers/C/events", "events": ["incident.updated"],
            "assignees": ["town:T"], "contact_allowed": True, "description": "七都镇平台"})
        assert down.status_code == 201, down.text
        assert town.post("/api/v1/peers", json={"code": "C", "kind": "county",
                                                "secret": down.json()["secret"]}
                         ).status_code == 201
        # … and up: the town tells the county's platform what becomes of the county's tickets
        up = town.post("/api/v1/subscriptions", json={
            "url": f"{county_origin}/api/v1/peers/T/events", "events": ["incident.updated"],
            "sources": ["county_ticket"], "description": "区平台"})
        assert up.status_code == 201, up.text
        assert county.post("/api/v1/peers", json={"code": "T", "kind": "town",
                                                  "secret": up.json()["secret"]}
                           ).status_code == 201
        yield county, town, county_url


def _until(what: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what.__doc__ or what}")


def _act(api: httpx.Client, incident: dict[str, Any], action: str,
         **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/incidents/{incident['id']}/actions",
                        headers={"If-Match": f'"{incident["version"]}"'},
                        json={"action": action, **body})
    assert response.status_code == 200, response.text
    done: dict[str, Any] = response.json()
    return done


def _send_down(county: httpx.Client, town: httpx.Client, number: str) -> tuple[dict[str, Any],
                                                                              dict[str, Any]]:
    """A hotline ticket the county takes in and sends down to T: (county's, town's)."""
    reported = county.post("/api/v1/incidents", json={
        "source": "hotline_12345", "external_id": number, "category": "GARBAGE",
        "description": "桥头垃圾堆了一周", "location": {"lon": IN_T[0], "lat": IN_T[1]},
        "contact": {"name": "李四", "phone": "13900001111"}})
    assert reported.status_code == 201, reported.text
    sent = _act(county, reported.json(), "dispatch", to="town:T", note="请七都镇办理")
    assert handler(sent) == ("town", "T")
    reference = f"C:{sent['id']}"

    def arrived() -> dict[str, Any] | None:
        items = town.get("/api/v1/incidents", params={"limit": 50}).json()["items"]
        return next((i for i in items if i["parent_ticket_id"] == reference), None)
    return sent, _until(arrived)


def test_a_ticket_goes_down_to_the_town_and_its_handling_comes_back(
        platforms: tuple[httpx.Client, httpx.Client, str]) -> None:
    county, town, county_url = platforms
    sent, arrived = _send_down(county, town, "12345-D1")
    assert (arrived["source"], arrived["external_id"]) == ("county_ticket", f"C:{sent['id']}")
    assert arrived["due_at"] == sent["due_at"]  # the county's deadline
    assert arrived["contact"] == {"name": "李四", "phone": "13900001111"}
    assert handler(arrived) == ("grid_worker", "W1")  # the town's own rules route it

    handled = arrived
    for action in ("accept", "resolve", "verify"):
        handled = _act(town, handled, action)
    _act(town, handled, "close", resolution="management")

    def followed() -> dict[str, Any] | None:
        ours: dict[str, Any] = county.get(f"/api/v1/incidents/{sent['id']}").json()
        return ours if ours["resolution"] == "management" else None
    ours = _until(followed)
    assert ours["status"] == "resolved"  # the county verifies and closes its own
    history = county.get(f"/api/v1/incidents/{sent['id']}/history").json()
    mirrored = [h["detail"]["action"] for h in history if h["action"] == "mirror"]
    assert mirrored == ["accept", "resolve", "verify", "close"]
    assert all(h["actor"] == "peer:T" for h in history if h["action"] == "mirror")
    engine = create_engine(county_url)
    try:
        with Session(engine) as session:
            assert list(verify_all(session)) == []
            once = session.scalar(text("SELECT count(*) = count(DISTINCT webhook_id) "
                                       "FROM peer_receipt"))
            assert once
    finally:
        engine.dispose()


def test_an_escalation_in_the_town_lands_at_the_county_center(
        platforms: tuple[httpx.Client, httpx.Client, str]) -> None:
    county, town, _ = platforms
    sent, arrived = _send_down(county, town, "12345-D2")
    at_town_center = _act(town, arrived, "escalate", note="网格处理不了")
    _act(town, at_town_center, "escalate", note="镇里协调不了，请区里统筹")

    def handed_up() -> dict[str, Any] | None:
        ours: dict[str, Any] = county.get(f"/api/v1/incidents/{sent['id']}").json()
        return ours if handler(ours) == ("county", "C") else None
    ours = _until(handed_up)
    assert ours["escalation_level"] >= 1 and ours["status"] == "dispatched"
    history = county.get(f"/api/v1/incidents/{sent['id']}/history").json()
    assert [h["detail"]["action"] for h in history if h["action"] == "mirror"] == [
        "escalate", "escalate"]
