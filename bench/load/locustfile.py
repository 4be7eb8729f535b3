"""A command center's day, compressed: reports from every channel, the map wall, dispatchers.

    locust -f bench/load/locustfile.py --headless ...   (bench/bench_load.py runs it)

Reads the run's plan from the JSON file named by `GIS_LOAD_PLAN` (tokens, points, addresses,
categories, where to log) and writes, when the run stops:
- `acknowledged.jsonl`: one line per report the service acknowledged (2xx), with the incident
  id it gave, its channel, external id and how many attempts it took: the ground truth the
  orchestrator checks the database against;
- `tally.json`: per request type, outcomes by kind (ok, expected conflict, connection error,
  5xx, other 4xx) with the time of every failure, and the latencies of the answered requests.

A reporter behaves as a real integration does: on a connection error, a 5xx or "still being
processed" (409) it sends the same request again — same external id, and the same
Idempotency-Key when it sent one (half do) — until the service acknowledges it. Open311
(GeoReport v2) has neither an external id nor an Idempotency-Key: its reports carry a unique
token in the description instead, so that the orchestrator can count them.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant_pacing, events, task
from locust.clients import ResponseContextManager

PLAN: dict[str, Any] = json.loads(Path(os.environ["GIS_LOAD_PLAN"]).read_text())
OUT = Path(PLAN["out_dir"])
REQUEST_TIMEOUT = 10.0
RETRY_PAUSE = (0.1, 0.5)  # seconds between attempts: a short, jittered back-off
STUCK_AFTER = 20.0  # seconds of "still being processed" before a key is taken as stuck
GIVE_UP_AFTER = 30.0  # a report still refused by then is counted as given up
CHANNELS = {  # channel: (weight, share of address-only reports)
    "hotline_12345": (30, 0.3), "mayor_mailbox": (8, 0.6), "grid_patrol": (25, 0.0),
    "enforcement_patrol": (8, 0.0), "video": (10, 0.0), "county_ticket": (7, 0.2),
    "open311": (7, 0.1), "walk_in": (5, 0.5),
}
DESCRIPTIONS = ["群众反映此处问题已持续数日，请尽快处理", "巡查发现，现场拍照留存",
                "来电人称影响出行，要求处理", "视频监控自动识别", "县平台转办工单"]


class Tally:
    """Outcomes and latencies per request type, shared by every user of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[tuple[float, str, str, str]] = []
        self.intake: dict[str, int] = defaultdict(int)
        self.acknowledged = (OUT / "acknowledged.jsonl").open("a", encoding="utf-8")
        self.started = time.time()

    def note(self, name: str, kind: str, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.kinds[name][kind] += 1
            if kind in ("ok", "conflict"):
                self.latencies[name].append(seconds * 1000)
            else:
                self.failures.append((time.time(), name, kind, detail[:160]))

    def acknowledge(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.acknowledged.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.acknowledged.flush()

    def dump(self) -> None:
        with self.lock:
            self.acknowledged.close()
            (OUT / "tally.json").write_text(json.dumps({
                "started": self.started, "stopped": time.time(), "kinds": self.kinds,
                "latencies_ms": self.latencies, "failures": self.failures,
                "intake": self.intake}))


TALLY = Tally()


@events.quitting.add_listener
def _write_tally(**_: Any) -> None:
    TALLY.dump()


def outcome(response: Any, expected: tuple[int, ...] = ()) -> str:
    """The kind of an answer: ok, conflict (an expected 409/412), conn_error, http_5xx,
    http_409 (unexpected) or http_4xx."""
    status = response.status_code or 0
    if status == 0:
        return "conn_error"
    if 200 <= status < 300:
        return "ok"
    if status in expected:
        return "conflict"
    if status == 409:
        return "http_409"  # an intake whose Idempotency-Key is "still being processed"
    return "http_5xx" if status >= 500 else "http_4xx"


def send(user: HttpUser, method: str, path: str, name: str, *,
         expected: tuple[int, ...] = (), **kwargs: Any) -> tuple[str, Any]:
    """One request, counted in locust's statistics and in the tally."""
    start = time.perf_counter()
    with user.client.request(method, path, name=name, catch_response=True,
                             timeout=REQUEST_TIMEOUT, **kwargs) as response:
        kind = outcome(response, expected)
        detail = str(response.error or "") if kind == "conn_error" else response.text[:160]
        TALLY.note(name, kind, time.perf_counter() - start, detail)
        _mark(response, kind)
    return kind, response


def _mark(response: ResponseContextManager, kind: str) -> None:
    if kind in ("ok", "conflict"):
        response.success()
    else:
        response.failure(kind)


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {random.choice(PLAN['tokens'][role])}"}


class Reporter(HttpUser):
    """A channel's integration (or a clerk at the window) sending new reports."""

    weight = 1
    wait_time = between(0.3, 1.2)

    @task
    def report(self) -> None:
        channel = random.choices(list(CHANNELS), [w for w, _ in CHANNELS.values()])[0]
        address_only = random.random() < CHANNELS[channel][1]
        if channel == "open311":
            self._open311(address_only)
        else:
            self._api(channel, address_only)

    def _api(self, channel: str, address_only: bool) -> None:
        external_id = f"{PLAN['run']}-{channel}-{uuid.uuid4().hex[:16]}"
        body: dict[str, Any] = {"source": channel, "external_id": external_id,
                                "category": random.choice(PLAN["categories"]),
                                "description": random.choice(DESCRIPTIONS)}
        place = random.choice(PLAN["places"])
        if address_only:
            body["address"] = place["address"]
        else:
            body["location"] = {"lon": place["lon"] + random.uniform(-2e-4, 2e-4),
                                "lat": place["lat"] + random.uniform(-2e-4, 2e-4)}
            if random.random() < 0.5:
                body["address"] = place["address"]
        if channel == "county_ticket":
            body["parent_ticket_id"] = f"SZ12345-{uuid.uuid4().hex[:10]}"
            body["county_due_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        # half rely on the Idempotency-Key (written alone, the key claimed in the intake's
        # transaction), half on source + external_id only (written in group-commit batches)
        headers = bearer("reporter")
        if random.random() < 0.5:
            headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        payload = json.dumps(body, ensure_ascii=False).encode()
        record = {"via": "api", "source": channel, "external_id": external_id,
                  "key": headers.get("Idempotency-Key")}
        self._until_acknowledged("POST /api/v1/incidents", "/api/v1/incidents", record,
                                 data=payload, headers={**headers,
                                                        "Content-Type": "application/json"})

    def _open311(self, address_only: bool) -> None:
        token = f"{PLAN['run']}-o311-{uuid.uuid4().hex[:16]}"
        place = random.choice(PLAN["places"])
        form = {"service_code": random.choice(PLAN["open311_categories"]),
                "description": f"{random.choice(DESCRIPTIONS)} [{token}]"}
        if address_only:
            form["address_string"] = place["address"]
        else:
            form["lat"], form["long"] = str(place["lat"]), str(place["lon"])
        record = {"via": "open311", "source": "open311", "token": token}
        self._until_acknowledged("POST /open311/v2/requests.json", "/open311/v2/requests.json",
                                 record, data=form)

    def _until_acknowledged(self, name: str, path: str, record: dict[str, Any],
                            **kwargs: Any) -> None:
        """Send until a 2xx; what a 4xx other than 409 says is logged and the report dropped."""
        first = time.time()
        attempts, in_flight_since = 0, None
        while True:
            attempts += 1
            kind, response = send(self, "POST", path, name, **kwargs)
            if kind == "ok":
                self._acknowledged(record, response, attempts, first)
                return
            if kind == "http_409" and "Idempotency-Key" in kwargs.get("headers", {}):
                in_flight_since = in_flight_since or time.time()
                if time.time() - in_flight_since > STUCK_AFTER:
                    # the key stays "in flight" for good: a new key, same external id
                    TALLY.intake["stuck_keys"] += 1
                    record.setdefault("stuck_keys", []).append(kwargs["headers"]
                                                               ["Idempotency-Key"])
                    kwargs["headers"] = {**kwargs["headers"],
                                         "Idempotency-Key": uuid.uuid4().hex}
                    in_flight_since = None
            elif kind == "http_4xx":
                TALLY.intake["refused"] += 1
                return
            if time.time() - first > GIVE_UP_AFTER:
                TALLY.intake["given_up"] += 1
                return
            time.sleep(random.uniform(*RETRY_PAUSE))

    def _acknowledged(self, record: dict[str, Any], response: Any, attempts: int,
                      first: float) -> None:
        body = response.json()
        if record["via"] == "open311":
            incident_id = int(body[0]["service_request_id"])
        else:
            incident_id = int(body["id"])
            if body.get("external_id") != record["external_id"]:
                TALLY.intake["wrong_answer"] += 1
        TALLY.intake["acknowledged"] += 1
        TALLY.intake["retried"] += attempts > 1
        TALLY.acknowledge({**record, "id": incident_id, "status": response.status_code,
                           "attempts": attempts, "first_sent": first, "acked": time.time()})


class WallScreen(HttpUser):
    """One screen of the map wall: the live feed every 3 s, the KPIs every 10 s, now and then
    the heat layer."""

    fixed_count = 10
    wait_time = constant_pacing(3)

    def on_start(self) -> None:
        self.headers = bearer("wall")
        self.cursor: int | None = None
        self.seen_at: str | None = None
        self.kpi_at = 0.0
        self.heat_at = time.monotonic() + random.uniform(0, 60)

    @task
    def poll(self) -> None:
        params = {} if self.cursor is None else {"after": self.cursor, "seen_at": self.seen_at}
        kind, response = send(self, "GET", "/api/v1/wall/feed", "GET /api/v1/wall/feed",
                              params=params, headers=self.headers)
        if kind == "ok":
            answer = response.json()
            self.cursor, self.seen_at = answer["cursor"], answer["at"]
        now = time.monotonic()
        if now - self.kpi_at >= 10:
            self.kpi_at = now
            send(self, "GET", "/api/v1/wall/kpi", "GET /api/v1/wall/kpi", headers=self.headers)
        if now >= self.heat_at:
            self.heat_at = now + 60
            send(self, "GET", "/api/v1/wall/heat?days=7", "GET /api/v1/wall/heat",
                 headers=self.headers)


# the next step a dispatcher takes from each state, and the queue (status list) to find them
NEXT_STEP = {"reported": "register", "registered": "dispatch", "dispatched": "accept",
             "accepted": "resolve", "resolved": "verify", "verified": "close"}
LISTS = [("queue", "awaiting"), ("status", "dispatched,accepted"), ("status", "resolved,verified"),
         ("queue", "returned")]


class Dispatcher(HttpUser):
    """A command-center dispatcher working the queues: register, dispatch, return, verify,
    close. 412 (someone else changed it) and 409 (not from that state) are everyday races."""

    fixed_count = 3
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = bearer("dispatcher")

    @task
    def work_a_queue(self) -> None:
        key, value = random.choice(LISTS)
        kind, response = send(self, "GET", f"/api/v1/incidents?{key}={value}&limit=20",
                              "GET /api/v1/incidents (queue)", headers=self.headers)
        if kind != "ok" or not response.json()["items"]:
            return
        item = random.choice(response.json()["items"])
        body = self._step(item)
        if body is None:
            return
        send(self, "POST", f"/api/v1/incidents/{item['id']}/actions",
             f"POST actions ({body['action']})", expected=(409, 412), json=body,
             headers={**self.headers, "If-Match": f'"{item["version"]}"'})

    @staticmethod
    def _step(item: dict[str, Any]) -> dict[str, Any] | None:
        status = item["status"]
        if status == "returned":
            return {"action": "dispatch", "note": "改派"}
        action = NEXT_STEP.get(status)
        if action is None:
            return None
        if status in ("dispatched", "accepted") and random.random() < 0.15:
            return {"action": "return", "note": "不属于本网格，退回"}
        if action == "dispatch" and item.get("lon") is None:
            return None  # needs a place first: left to a person with a map
        body: dict[str, Any] = {"action": action, "note": "load run"}
        if action == "close":
            body["resolution"] = random.choice(["service", "management", "enforcement"])
        return body
