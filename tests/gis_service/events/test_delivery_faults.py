"""Deliveries survive faults: a service of its own (`gis-service serve`, two processes) on a
scratch database sends to a receiver process that records every request in a file before it
answers; the receiver refuses for a few seconds, then the service is killed with SIGKILL while
a delivery is in flight and started again. Afterwards every stored delivery has arrived with
a valid signature, per incident in order, and what came twice came with the same webhook-id
and the same body."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bench.bench_load import kill_service
from bench.bench_webhooks import (
    INCIDENT_EVENTS,
    Receiver,
    check_deliveries,
    check_outbox,
    receiving,
)
from gis_service.auth import service as auth_service
from tests.town import import_town

ROOT = Path(__file__).resolve().parents[3]
PLACES = [(120.402, 30.902), (120.418, 30.918)]  # grids T-A-1 and T-B-2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def waiting_for(what: str, done: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.05)


def serve(url: str, port: int, receiver: Receiver) -> subprocess.Popen[bytes]:
    """The service on the scratch database, retrying every second, polling often."""
    env = {**os.environ, "DATABASE_URL": url, "GIS_RATE_LIMIT_PER_SECOND": "0",
           "GIS_WEBHOOK_ALLOWED_HOSTS": receiver.host, "GIS_WEBHOOK_POLL_SECONDS": "0.1",
           "GIS_WEBHOOK_RETRY_SECONDS": ",".join(["1"] * 30),
           "GIS_ESCALATION_INTERVAL_SECONDS": "0"}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gis-service"), "serve", "--port", str(port), "--workers", "2",
         "--log-level", "error", "--no-access-log"], env=env, cwd=ROOT)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, "the service exited"
            return False

    try:
        waiting_for("service", healthy, 60)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        kill_service(process)


@pytest.fixture()
def database(scratch_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The scratch database with the test town and an admin; its URL and the admin's
    token."""
    engine = create_engine(scratch_url)
    with sessionmaker(bind=engine)() as session:
        import_town(session, tmp_path)
        auth_service.add_account(session, username="admin", role="admin")
        token = auth_service.issue_token(session, username="admin")
        session.commit()
    engine.dispose()
    yield scratch_url, token


def work(client: httpx.Client, n: int, prefix: str) -> None:
    """A report, then the whole loop to close for every other one, accept for the rest."""
    lon, lat = PLACES[n % len(PLACES)]
    made = client.post("/api/v1/incidents", json={
        "source": "hotline_12345", "external_id": f"{prefix}{n}", "category": "GARBAGE",
        "description": "fault test", "location": {"lon": lon + n * 1e-5, "lat": lat}})
    assert made.status_code == 201, made.text
    incident = made.json()
    steps = [{"action": "accept"}, {"action": "resolve"}, {"action": "verify"},
             {"action": "close", "resolution": "enforcement" if n % 4 else "service"}]
    for step in steps if n % 2 else steps[:1]:
        answer = client.post(f"/api/v1/incidents/{incident['id']}/actions", json=step,
                             headers={"If-Match": f'"{incident["version"]}"'})
        assert answer.status_code == 200, answer.text
        incident = answer.json()


def burst(port: int, token: str, prefix: str, count: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client, \
            ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: work(client, n, prefix), range(count)))


def test_nothing_is_lost_when_the_receiver_refuses_and_the_service_is_killed(
        database: tuple[str, str], tmp_path: Path) -> None:
    url, token = database
    port = free_port()
    engine = create_engine(url)
    service = None
    (tmp_path / "receiver").mkdir()
    try:
        with receiving(tmp_path / "receiver", free_port()) as receiver:
            service = serve(url, port, receiver)
            made = httpx.post(f"http://127.0.0.1:{port}/api/v1/subscriptions",
                              headers={"Authorization": f"Bearer {token}"},
                              json={"url": receiver.url("/hook"), "events": INCIDENT_EVENTS})
            assert made.status_code == 201, made.text
            receiver.add_secret("/hook", made.json()["secret"])
            paths = {"/hook": made.json()["id"]}

            receiver.flag("refuse", True)  # 503 with Retry-After: 1 for a few seconds
            burst(port, token, "F", 24)
            waiting_for("refusal", lambda: sum(r["status"] == 503
                                               for r in receiver.records()) >= 20)
            time.sleep(2)
            receiver.flag("hold", True)  # the next accepted request is recorded, not answered
            receiver.flag("refuse", False)
            waiting_for("accepted request", lambda: any(
                r["status"] == 204 for r in receiver.records()))
            kill_service(service)  # mid-delivery: the receiver has it, the service never knew
            receiver.flag("hold", False)
            service = serve(url, port, receiver)
            burst(port, token, "G", 8)  # the service goes on taking changes

            def delivered() -> bool:  # every message fanned out, every delivery made
                with engine.connect() as connection:
                    return bool(connection.execute(text(
                        "SELECT (SELECT count(*) FROM webhook_delivery "
                        "        WHERE status <> 'delivered') "
                        "     + (SELECT count(*) FROM webhook_message WHERE fanned_at IS NULL)")
                    ).scalar_one() == 0)

            waiting_for("delivery of everything", delivered, 30)
            stop(service)
            service = None
            records = receiver.records()
        with engine.connect() as connection:
            checked = check_deliveries(connection, records, paths)
            outbox = check_outbox(connection, "%")
    finally:
        stop(service)
        engine.dispose()

    assert outbox["incidents"] == 32 and outbox["incidents_missing_an_event"] == 0
    assert checked["deliveries_stored"] == outbox["messages"] > 32
    assert checked["lost"] == checked["pending"] == checked["failed"] == 0
    assert checked["unknown_arrived"] == 0
    assert checked["bad_signature_401"] == 0  # every request verified with standardwebhooks
    assert checked["refused_503"] >= 20
    assert checked["redelivered"] >= 1  # the request in flight at the kill came again…
    assert checked["redelivered_different_body"] == 0  # …as the same message, same webhook-id
    assert checked["arrived_before_an_earlier_event"] == 0
    assert checked["dedup_exactly_once"] and checked["dedup_out_of_order"] == 0
    by_incident: dict[int, list[int]] = {}
    for record in records:
        if record["status"] == 204:
            by_incident.setdefault(record["incident"], []).append(record["version"])
    assert all(versions == sorted(versions) for versions in by_incident.values())
    first: dict[str, dict[str, Any]] = {}
    for record in records:  # a webhook-id always names the same event
        if record["status"] == 204:
            seen = first.setdefault(record["id"], record)
            assert (seen["type"], seen["incident"], seen["version"]) == (
                record["type"], record["incident"], record["version"])
