"""Events out (webhooks): the outbox's cost to intake, delivery throughput and lag, and faults.

    .venv/bin/python bench/bench_webhooks.py [--short] [--intake-seconds 15] [--rounds 3]
        [--rate 100,60,30] [--load-seconds 60] [--fault-rate 20] [--receiver-down 120]
        [--faults receiver,kill,pg] [--json bench/out/webhooks.json]

One throw-away durable embedded PostGIS, the synthetic town of bench_intake (a worker per
level-3 grid, three categories), `gis-service serve --workers 2`, and a receiver in a process
of its own (this file's `receiver` command: uvicorn, one process) that verifies every request
with `standardwebhooks.Webhook(secret).verify` on arrival, de-duplicates by `webhook-id`, and
appends a line per request to a file before it answers, so a killed service cannot take the
record with it. A request whose body did not arrive whole (its sender killed mid-request) is
recorded as cut short, not as a bad signature: it is a failure only if its webhook-id does not
arrive again, valid, after it. The whole run is on one database; `--short` takes ~3 minutes,
the full run ~15.

(a) Intake with wrk as bench_intake drives it (group commit on), rounds alternating: no
    subscription (all disabled), 3 enabled subscriptions selecting every incident event with
    the delivery worker off (`GIS_WEBHOOK_POLL_SECONDS=0`: the write path alone; every other
    round takes it before the no-subscription round), and the same with the worker
    delivering. After the first round with a backlog, the service is started
    idle and drains it: the delivery ceiling. The backlogs are dropped between rounds.
(b) Per `--rate`: `--delivery-subscriptions` (1) new subscriptions selecting every incident
    event; that many incidents/s over HTTP for `--load-seconds`, each (or a `--follow-up`
    share of them) followed by a few actions (accept; accept + resolve; the whole loop to
    close, a quarter closed as enforcement; escalate + accept now and then), each action
    after a pause of `--think` seconds. Delivery throughput, and the lag of each event:
    its first arrival at the receiver minus its `timestamp`.
(c) Faults under `--fault-rate` incidents/s with 3 subscriptions: the receiver stopped for
    `--receiver-down` seconds; the service's processes SIGKILLed and started again at once;
    `pg_ctl restart -m fast`. After each (load stopped, backlog drained), over every delivery
    of the three subscriptions so far: each arrived at least once with a valid signature,
    nothing unknown arrived, per incident no arrival came after a later event's, the
    de-duplicating receiver saw each message exactly once, and every history row of the
    run's incidents has its event in the outbox. The run exits 1 when a check fails.

The retry schedule is `--retry-seconds` (short steps, so that an outage is caught up within
half a minute of its end; with the service's default the second retry comes 5 min later).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import cpu_seconds, one_round, postmaster_pid, prepare, wrk_script
from bench.bench_load import PORT as SERVICE_PORT
from bench.bench_load import kill_service, restart_postgres, start_service
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.events.catalog import EVENT_TYPES, PLAN_PUBLISHED

ROOT = Path(__file__).resolve().parent.parent
RECEIVER_PORT = 18795
INCIDENT_EVENTS = [t for t in EVENT_TYPES if t != PLAN_PUBLISHED]
BENCH_RETRIES = "1,2,5,10,15,30,30,30,30,30,30,30,30,30,30,30"
CUT_SHORT = 499  # the receiver's status for a request whose body did not arrive whole


# --- the receiver ---------------------------------------------------------------------------

def receiver_app(out: Path, secrets_file: Path, flags: Path) -> Any:
    """An ASGI app that records every POST as a JSON line in `out` (flushed before it answers):
    arrival time, path, webhook-id, whether the signature verified, whether this webhook-id
    is new on this path (a de-duplicating receiver's view, kept across restarts by reading
    `out` again), the event's type, incident, version and timestamp, and a digest of the body.
    Secrets by path come from `secrets_file` (read again for a path it does not know). While
    `flags/refuse` exists it answers 503 with Retry-After: 1; while `flags/hold` exists it
    records an accepted request and then holds its answer back. A body that did not arrive
    whole is recorded with status 499 and `cut_short` (why), never verified: a signature
    check of half a body would call it forged."""
    seen: set[tuple[str, str]] = set()
    if out.exists():
        for line in out.read_bytes().splitlines():
            record = orjson.loads(line)
            if 200 <= record["status"] < 300:
                seen.add((record["path"], record["id"]))
    verifiers: dict[str, Any] = {}
    file = out.open("ab")

    def verifier(path: str) -> Any:
        from standardwebhooks import Webhook

        if path not in verifiers and secrets_file.exists():
            for known, secret in json.loads(secrets_file.read_text()).items():
                verifiers.setdefault(known, Webhook(secret))
        return verifiers.get(path)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    file.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body, cut_short = await read_body(receive, headers)
        arrived = time.time()
        if scope["method"] != "POST":  # a probe: up and answering
            await _answer(send, 200)
            return
        path = scope["path"]
        record: dict[str, Any] = {"t": arrived, "path": path, "id": headers.get("webhook-id"),
                                  "digest": hashlib.sha1(body).hexdigest()[:16], "first": False}
        extra: list[tuple[bytes, bytes]] = []
        if cut_short is not None:
            record.update(status=CUT_SHORT, cut_short=cut_short)
        elif (flags / "refuse").exists():
            record["status"] = 503
            extra = [(b"retry-after", b"1")]
        else:
            found = verifier(path)
            try:
                payload = found.verify(body, headers) if found else None
            except Exception:
                payload = None
            record["status"] = 204 if payload is not None else 401
            if payload is not None:
                incident = payload["data"].get("incident") or {}
                record.update(type=payload["type"], ts=payload["timestamp"],
                              incident=incident.get("id"), version=incident.get("version"))
                key = (path, record["id"])
                record["first"] = key not in seen
                seen.add(key)
        file.write(orjson.dumps(record) + b"\n")
        file.flush()
        if record["status"] == 204:
            while (flags / "hold").exists():
                await asyncio.sleep(0.05)
        await _answer(send, record["status"], extra)

    return app


async def read_body(receive: Any, headers: dict[str, str]) -> tuple[bytes, str | None]:
    """The request's body and, when it did not arrive whole, why: the client went away before
    its end (uvicorn then answers `http.disconnect`, the bytes so far dropped or kept), or the
    bytes differ from its Content-Length."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body), f"disconnected after {len(body)} bytes"
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) != len(body):
        return bytes(body), f"{len(body)} of {declared} bytes"
    return bytes(body), None


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]] | None = None
                  ) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", b"0"), *(headers or [])]})
    await send({"type": "http.response.body", "body": b""})


def receiver_main(argv: list[str]) -> None:
    """`bench_webhooks.py receiver --port P --out FILE --secrets FILE --flags DIR`."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="bench_webhooks.py receiver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--secrets", type=Path, required=True)
    parser.add_argument("--flags", type=Path, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(receiver_app(args.out, args.secrets, args.flags), host="127.0.0.1",
                port=args.port, log_level="warning", access_log=False, lifespan="on",
                timeout_graceful_shutdown=2)


@dataclass
class Receiver:
    """The receiver process: its port, its record file, the secrets by path, its flags."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.folder / "received.jsonl"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def add_secret(self, path: str, secret: str) -> None:
        self.secrets[path] = secret
        temporary = self.folder / "secrets.tmp"
        temporary.write_text(json.dumps(self.secrets))
        temporary.replace(self.folder / "secrets.json")

    def flag(self, name: str, on: bool) -> None:
        """Raise or lower the `refuse` or `hold` flag."""
        if on:
            (self.folder / name).touch()
        else:
            (self.folder / name).unlink(missing_ok=True)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench/bench_webhooks.py"), "receiver", "--port",
             str(self.port), "--out", str(self.out), "--secrets",
             str(self.folder / "secrets.json"), "--flags", str(self.folder)], cwd=ROOT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with suppress(httpx.HTTPError):
                if httpx.get(self.url("/up"), timeout=1).status_code == 200:
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("the receiver did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def records(self) -> list[dict[str, Any]]:
        """Every request recorded so far, in the order handled."""
        if not self.out.exists():
            return []
        return [orjson.loads(line) for line in self.out.read_bytes().splitlines() if line]


@contextmanager
def receiving(folder: Path, port: int = RECEIVER_PORT) -> Iterator[Receiver]:
    """A receiver process for the block's length (stopped however the block ends)."""
    receiver = Receiver(port, folder)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


# --- the checks -----------------------------------------------------------------------------

def check_deliveries(connection: Connection, records: list[dict[str, Any]],
                     paths: dict[str, int]) -> dict[str, Any]:
    """The stored deliveries of the subscriptions (`paths`: receiver path → subscription id)
    against what the receiver recorded: delivered at least once, nothing unknown, signatures
    valid, redeliveries of a message identical to it, per incident never back in message
    order, and the de-duplicating receiver's view exactly the stored messages, once each.
    A request cut short (its sender killed mid-body) is no failure when its webhook-id arrives
    again, valid, after it."""
    rows = connection.execute(text(
        "SELECT d.subscription_id, d.status, m.id, m.uid, m.ordering_key "
        "FROM webhook_delivery d JOIN webhook_message m ON m.id = d.message_id "
        "WHERE d.subscription_id = ANY(:subs)"), {"subs": list(paths.values())}).all()
    stored = {(row.subscription_id, row.uid): row for row in rows}
    ours = [r for r in records if r["path"] in paths]
    accepted = [r for r in ours if 200 <= r["status"] < 300]
    arrivals = Counter((paths[r["path"]], r["id"]) for r in accepted)
    firsts = Counter((paths[r["path"]], r["id"]) for r in accepted if r["first"])
    digests: dict[tuple[int, str], set[str]] = defaultdict(set)
    backwards = backwards_first = 0
    last: dict[tuple[int, str], int] = {}
    last_first: dict[tuple[int, str], int] = {}
    for record in accepted:
        key = (paths[record["path"]], record["id"])
        digests[key].add(record["digest"])
        row = stored.get(key)
        if row is None:
            continue
        chain = (key[0], row.ordering_key)
        if row.id < last.get(chain, 0):
            backwards += 1
        last[chain] = max(last.get(chain, 0), row.id)
        if record["first"]:
            if row.id <= last_first.get(chain, 0):
                backwards_first += 1
            last_first[chain] = row.id
    states = Counter(row.status for row in rows)
    return {
        "deliveries_stored": len(stored), "pending": states["pending"],
        "failed": states["failed"],
        "lost": sum(1 for key in stored if arrivals[key] == 0),
        "unknown_arrived": sum(1 for key in arrivals if key not in stored),
        "requests": len(ours), "accepted": len(accepted),
        "refused_503": sum(1 for r in ours if r["status"] == 503),
        "bad_signature_401": sum(1 for r in ours if r["status"] == 401),
        **cut_short_check(ours),
        "redelivered": len(accepted) - len(arrivals),
        "redelivered_different_body": sum(1 for v in digests.values() if len(v) > 1),
        "arrived_before_an_earlier_event": backwards,
        "dedup_seen": sum(firsts.values()),
        "dedup_exactly_once": set(firsts) == set(stored) and max(firsts.values(), default=1)
        == 1,
        "dedup_out_of_order": backwards_first,
    }


def cut_short_check(records: list[dict[str, Any]]) -> dict[str, int]:
    """The requests cut short by their sender's death (`records` in the order handled), and
    of those the ones whose webhook-id did not arrive again, valid, on the same path after."""
    last_accepted = {(r["path"], r["id"]): i for i, r in enumerate(records)
                     if 200 <= r["status"] < 300}
    cut_short = [(i, r) for i, r in enumerate(records) if r["status"] == CUT_SHORT]
    return {"cut_short_by_sender": len(cut_short),
            "cut_short_not_redelivered": sum(
                1 for i, r in cut_short if last_accepted.get((r["path"], r["id"]), -1) < i)}


OUTBOX_CHECK = text("""
WITH inc AS (SELECT id FROM incident WHERE external_id LIKE :like),
report AS (SELECT e.incident_id, min(e.at) AS at FROM incident_event e
           JOIN inc ON inc.id = e.incident_id WHERE e.action = 'report' GROUP BY 1),
h AS (SELECT e.incident_id, count(*) FILTER (WHERE e.at > r.at) AS changes,
             count(*) FILTER (WHERE e.at > r.at AND e.action = 'close') AS closes,
             count(*) FILTER (WHERE e.at > r.at AND e.action = 'escalate') AS escalations,
             count(*) FILTER (WHERE e.at > r.at AND e.action = 'close'
                              AND e.after ->> 'resolution' = 'enforcement') AS enforced
      FROM incident_event e JOIN report r USING (incident_id) GROUP BY 1),
m AS (SELECT incident_id, count(*) FILTER (WHERE type = 'incident.created') AS created,
             count(*) FILTER (WHERE type = 'incident.updated') AS updated,
             count(*) FILTER (WHERE type = 'incident.closed') AS closed,
             count(*) FILTER (WHERE type = 'incident.escalated') AS escalated,
             count(*) FILTER (WHERE type = 'enforcement.result') AS enforcement
      FROM webhook_message WHERE incident_id IN (SELECT id FROM inc) GROUP BY 1)
SELECT count(*) AS incidents, coalesce(sum(h.changes), 0) AS changes,
       count(*) FILTER (WHERE coalesce(m.created, 0) <> 1 OR coalesce(m.updated, 0) <> h.changes
                          OR coalesce(m.closed, 0) <> h.closes
                          OR coalesce(m.escalated, 0) <> h.escalations
                          OR coalesce(m.enforcement, 0) <> h.enforced) AS mismatched,
       coalesce(sum(m.created + m.updated + m.closed + m.escalated + m.enforcement), 0)
           AS messages
FROM h LEFT JOIN m USING (incident_id)
""")


def check_outbox(connection: Connection, like: str) -> dict[str, int]:
    """The run's incidents (external_id LIKE `like`): each has one incident.created, an
    incident.updated per history row after its intake, an incident.closed per close (and an
    enforcement.result per enforcement close), an incident.escalated per escalation."""
    row = connection.execute(OUTBOX_CHECK, {"like": like}).one()
    return {"incidents": row.incidents, "history_changes": int(row.changes),
            "messages": int(row.messages), "incidents_missing_an_event": row.mismatched}


def all_good(checked: dict[str, Any]) -> bool:
    """True when a check found nothing wrong."""
    return bool(checked["pending"] == checked["failed"] == checked["lost"] == 0
            and checked["unknown_arrived"] == checked["bad_signature_401"] == 0
            and checked["cut_short_not_redelivered"] == 0
            and checked["redelivered_different_body"] == 0
            and checked["arrived_before_an_earlier_event"] == 0
            and checked["dedup_exactly_once"] and checked["dedup_out_of_order"] == 0
            and checked.get("incidents_missing_an_event", 0) == 0)


# --- the load -------------------------------------------------------------------------------

def actions_for(rng: random.Random) -> list[dict[str, Any]]:
    """The actions one incident gets after intake: 35 % accept; 35 % accept + resolve; 25 %
    the whole loop to close (a quarter closed as enforcement); 5 % escalate + accept."""
    roll = rng.random()
    if roll < 0.35:
        return [{"action": "accept"}]
    if roll < 0.70:
        return [{"action": "accept"}, {"action": "resolve"}]
    if roll < 0.95:
        resolution = "enforcement" if rng.random() < 0.25 else "service"
        return [{"action": "accept"}, {"action": "resolve"}, {"action": "verify"},
                {"action": "close", "resolution": resolution}]
    return [{"action": "escalate"}, {"action": "accept"}]


class Connections:
    """A fixed number of keep-alive HTTP/1.1 connections serving one queue of requests (a
    client pool that stays cheap however long the queue grows); answers (status, body),
    raises ConnectionError when there is none. Each connection is opened again after
    `reuse` requests, so that the service's worker processes, which take connections as
    they come, share them out over time."""

    def __init__(self, port: int, token: str, size: int, timeout: float = 30.0,
                 reuse: int = 50) -> None:
        self.port, self.token, self.size, self.timeout = port, token, size, timeout
        self.reuse = reuse
        self.queue: asyncio.Queue[tuple[bytes, asyncio.Future[tuple[int, bytes]]]] = (
            asyncio.Queue())
        self.workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.workers = [asyncio.create_task(self._serve()) for _ in range(self.size)]

    async def stop(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)

    async def post(self, path: str, body: dict[str, Any],
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        content = orjson.dumps(body)
        head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                   f"{self.token}\r\nContent-Type: application/json\r\nContent-Length: "
                   f"{len(content)}\r\n{head}\r\n").encode() + content
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        await self.queue.put((request, future))
        return await future

    async def _serve(self) -> None:
        stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        used = 0
        while True:
            request, future = await self.queue.get()
            try:
                if stream is None:
                    stream = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", self.port), self.timeout)
                    used = 0
                stream[1].write(request)
                answer, keep = await asyncio.wait_for(self._read(stream[0]), self.timeout)
                future.set_result(answer)
                used += 1
                if not keep or used >= self.reuse:
                    stream[1].close()
                    stream = None
            except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError,
                    ValueError) as exc:
                if stream is not None:
                    stream[1].close()
                stream = None
                future.set_exception(ConnectionError(f"{type(exc).__name__}: {exc}"))

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[tuple[int, bytes], bool]:
        status_line = await reader.readline()
        if not status_line:
            raise EOFError("the connection closed")
        status = int(status_line.split()[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep = False
        return (status, await reader.readexactly(length)), keep


class Load(threading.Thread):
    """About `rate` new incidents a second over HTTP (open loop), each followed by its
    actions (only a `follow_up` share of them), every action after a pause drawn from
    `think`; what was sent and answered."""

    def __init__(self, port: int, token: str, points: np.ndarray, rate: float, prefix: str,
                 think: tuple[float, float], connections: int = 32,
                 follow_up: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.points = port, token, points
        self.rate, self.prefix, self.think = rate, prefix, think
        self.follow_up = follow_up
        self.connections = connections
        self.halt = threading.Event()
        self.counts: Counter[str] = Counter()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.started = self.stopped = 0.0

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        client = Connections(self.port, self.token, self.connections)
        client.start()
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()
        start, n = loop.time(), 0
        self.started = time.time()
        while not self.halt.is_set():
            delay = start + n / self.rate - loop.time()
            await asyncio.sleep(max(delay, 0))
            if len(tasks) < 4000:
                task = asyncio.create_task(self._incident(client, n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            else:
                self.counts["not_sent_overloaded"] += 1
            n += 1
        self.stopped = time.time()
        if tasks:
            await asyncio.wait(tasks, timeout=90)
        await client.stop()

    async def _post(self, client: Connections, kind: str, path: str, body: dict[str, Any],
                    expect: int, headers: dict[str, str] | None = None
                    ) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            status, content = await client.post(path, body, headers)
        except ConnectionError:
            self.counts[f"{kind}_connection_error"] += 1
            return None
        if status != expect:
            self.counts[f"{kind}_http_{status}"] += 1
            return None
        self.counts[kind] += 1
        self.latencies[kind].append(time.perf_counter() - started)
        answer: dict[str, Any] = orjson.loads(content)
        return answer

    async def _incident(self, client: Connections, n: int) -> None:
        rng = random.Random(n)
        x, y = self.points[n % len(self.points)]
        incident = await self._post(client, "report", "/api/v1/incidents", {
            "source": "hotline_12345", "external_id": f"{self.prefix}{n}",
            "category": rng.choice(["GARBAGE", "BUILDING", "POLLUTION"]),
            "description": "bench", "location": {"lon": float(x), "lat": float(y)}}, 201)
        if incident is None or incident["status"] != "dispatched":
            return
        if self.follow_up < 1 and rng.random() >= self.follow_up:
            return
        for action in actions_for(rng):
            if self.halt.is_set():
                return
            await asyncio.sleep(rng.uniform(*self.think))
            incident = await self._post(
                client, "action", f"/api/v1/incidents/{incident['id']}/actions", action, 200,
                {"If-Match": f'"{incident["version"]}"'})
            if incident is None:
                return

    def summary(self) -> dict[str, Any]:
        seconds = max(self.stopped - self.started, 1e-9)
        report = np.array(self.latencies["report"] or [0.0]) * 1000
        action = np.array(self.latencies["action"] or [0.0]) * 1000
        return {"seconds": round(seconds, 1),
                "incidents_per_s": round(self.counts["report"] / seconds, 1),
                "actions_per_s": round(self.counts["action"] / seconds, 1),
                "report_p50_p99_ms": [round(float(np.percentile(report, q)), 1)
                                      for q in (50, 99)],
                "action_p50_p99_ms": [round(float(np.percentile(action, q)), 1)
                                      for q in (50, 99)],
                "answers": dict(sorted(self.counts.items()))}


@contextmanager
def loaded(token: str, points: np.ndarray, rate: float, prefix: str,
           think: tuple[float, float], follow_up: float = 1.0) -> Iterator[Load]:
    """The load for the block's length (stopped, and its incidents finished, at the end)."""
    load = Load(SERVICE_PORT, token, points, rate, prefix, think, follow_up=follow_up)
    load.start()
    try:
        yield load
    finally:
        load.halt.set()
        load.join(timeout=120)


# --- the phases -----------------------------------------------------------------------------

class Backlog(threading.Thread):
    """The pending deliveries of some subscriptions, sampled every half second (None while
    the database does not answer)."""

    def __init__(self, engine: Engine, subscriptions: list[int]) -> None:
        super().__init__(daemon=True)
        self.engine, self.subscriptions = engine, subscriptions
        self.samples: list[tuple[float, int | None]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append((time.time(), pending(self.engine, self.subscriptions)))
            self.halt.wait(0.5)

    def most(self, since: float = 0.0) -> int:
        return max((n for t, n in self.samples if t >= since and n is not None), default=0)


def pending(engine: Engine, subscriptions: list[int]) -> int | None:
    """The pending deliveries of the subscriptions, and a delivery per subscription for each
    message the worker has not fanned out yet (every subscription here selects every
    incident event)."""
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(
                "SELECT (SELECT count(*) FROM webhook_delivery WHERE status = 'pending' "
                "        AND subscription_id = ANY(:subs)) "
                "     + cardinality(CAST(:subs AS bigint[])) "
                "       * (SELECT count(*) FROM webhook_message WHERE fanned_at IS NULL)"),
                {"subs": subscriptions}).scalar_one())
    except Exception:
        return None


UNFANNED_DROPPED = ("UPDATE webhook_message SET fanned_at = now() "  # a backlog not to fan out
                    "WHERE fanned_at IS NULL")


def drained(engine: Engine, subscriptions: list[int], timeout: float) -> float | None:
    """Wait until no delivery of the subscriptions is pending; when that was (None: not
    within `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pending(engine, subscriptions) == 0:
            return time.time()
        time.sleep(0.25)
    return None


def subscribe(token: str, receiver: Receiver, paths: list[str]) -> dict[str, int]:
    """A subscription per path selecting every incident event; receiver path → id."""
    made = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{SERVICE_PORT}",
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for path in paths:
            response = client.post("/api/v1/subscriptions", json={
                "url": receiver.url(path), "events": INCIDENT_EVENTS,
                "description": f"bench {path}"})
            response.raise_for_status()
            receiver.add_secret(path, response.json()["secret"])
            made[path] = response.json()["id"]
    return made


def execute(engine: Engine, sql: str, **values: Any) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), values)


def vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM webhook_delivery, webhook_message"))


def percentiles(values: list[float], qs: tuple[int, ...] = (50, 95, 99)) -> dict[str, float]:
    array = np.array(values or [0.0])
    return {**{f"p{q}": round(float(np.percentile(array, q)), 3) for q in qs},
            "max": round(float(array.max()), 3)}


def event_time(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["ts"]).timestamp()


def intake_phase(url: str, engine: Engine, folder: Path, receiver: Receiver, admin: str,
                 token: str, xs: np.ndarray, ys: np.ndarray,
                 args: argparse.Namespace) -> dict[str, Any]:
    """(a): wrk intake rounds with no subscription, 3 without delivering, 3 delivering; the
    drain of the first backlog."""
    service = start_service(url, args.workers)
    try:
        subs = subscribe(admin, receiver, ["/a/1", "/a/2", "/a/3"])
    finally:
        service.terminate()
        service.wait(timeout=30)
    ids = list(subs.values())
    modes = [("none", False, 0.0), ("3 subscriptions, worker off", True, 0.0),
             ("3 subscriptions, delivering", True, 0.5)]
    rounds: list[dict[str, Any]] = []
    drain: dict[str, Any] | None = None
    execute(engine, "UPDATE webhook_subscription SET enabled = false WHERE id = ANY(:ids)",
            ids=ids)
    # a round not counted: one run's first round, on an empty incident table, ran ~20 %
    # faster than the rest, and the first round would always fall on one mode
    warm = one_round(url, engine, wrk_script(folder, token, xs, ys, "AW-"),
                     args.intake_seconds, args.connections, args.workers, args.batch_max)
    print("warm-up", json.dumps(warm), flush=True)
    for n in range(args.rounds):
        # the database grows round by round: every other round takes the write path first,
        # so neither mode always runs on the smaller database
        order = modes if n % 2 == 0 else [modes[1], modes[0], modes[2]]
        for m, (name, on, poll) in enumerate(order):
            execute(engine, "DELETE FROM webhook_delivery WHERE subscription_id = ANY(:ids)",
                    ids=ids)
            execute(engine, UNFANNED_DROPPED)
            vacuum(engine)  # the dropped backlog's dead rows, not an autovacuum mid-round
            execute(engine, "UPDATE webhook_subscription SET enabled = :on "
                    "WHERE id = ANY(:ids)", on=on, ids=ids)
            os.environ["GIS_WEBHOOK_POLL_SECONDS"] = str(poll)
            before = len(receiver.records())
            script = wrk_script(folder, token, xs, ys, f"A{n}M{m}-")
            result: dict[str, Any] = dict(one_round(
                url, engine, script, args.intake_seconds, args.connections, args.workers,
                args.batch_max))
            left = pending(engine, ids) or 0
            result.update(round=n + 1, mode=name, deliveries_left=left,
                          delivered_during=len(receiver.records()) - before)
            print("intake", json.dumps(result), flush=True)
            rounds.append(result)
            if drain is None and on and poll == 0:
                os.environ["GIS_WEBHOOK_POLL_SECONDS"] = "0.5"
                drain = drain_backlog(url, engine, receiver, ids, args)
                print("drain", json.dumps(drain), flush=True)
    execute(engine, "DELETE FROM webhook_subscription WHERE id = ANY(:ids)", ids=ids)
    os.environ["GIS_WEBHOOK_POLL_SECONDS"] = "0.5"
    best = {name: max((r for r in rounds if r["mode"] == name),
                      key=lambda r: r["requests_per_s"]) for name, _, _ in modes}
    none, off, delivering = (best[name] for name, _, _ in modes)

    def cpu(r: dict[str, Any]) -> float:
        return float(r["service_cpu_ms_per_report"] + r["postgres_cpu_ms_per_report"])

    def median(name: str, value: Callable[[dict[str, Any]], float]) -> float:
        return float(np.median([value(r) for r in rounds if r["mode"] == name]))

    names = [name for name, _, _ in modes]
    rate = {(r["round"], r["mode"]): r["requests_per_s"] for r in rounds}
    paired = [rate[(n + 1, names[1])] / rate[(n + 1, names[0])] for n in range(args.rounds)]
    return {"rounds": rounds, "drain": drain, "warm_up": warm,
            # each round's write path against the same round's no-subscription rate (the two
            # run one after the other, in turns first): the ratio least moved by the drift
            "paired_rate_ratios_write_path": [round(x, 3) for x in paired],
            "median_paired_rate_ratio_write_path": round(float(np.median(paired)), 3),
            "median_rate_ratio_write_path": round(
                median(names[1], lambda r: r["requests_per_s"])
                / median(names[0], lambda r: r["requests_per_s"]), 3),
            "median_cpu_ratio_write_path": round(median(names[1], cpu)
                                                 / median(names[0], cpu), 3),
            "rate_ratio_write_path": round(off["requests_per_s"] / none["requests_per_s"], 3),
            "rate_ratio_delivering": round(delivering["requests_per_s"]
                                           / none["requests_per_s"], 3),
            "cpu_ratio_write_path": round(cpu(off) / cpu(none), 3),
            "p99_ms": {name: best[name].get("p99_ms") for name, _, _ in modes}}


def drain_backlog(url: str, engine: Engine, receiver: Receiver, ids: list[int],
                  args: argparse.Namespace) -> dict[str, Any]:
    """The service, idle, delivers the backlog a round left: deliveries/s from its first
    arrival to its last (or until `--drain-seconds`), and CPU per delivery."""
    backlog = pending(engine, ids) or 0
    start = len(receiver.records())
    service = start_service(url, args.workers)
    postmaster = postmaster_pid(engine)
    cpu = (cpu_seconds(service.pid), cpu_seconds(postmaster))
    try:
        done = drained(engine, ids, args.drain_seconds)
        cpu = (cpu_seconds(service.pid) - cpu[0], cpu_seconds(postmaster) - cpu[1])
    finally:
        service.terminate()
        service.wait(timeout=30)
    got = [r for r in receiver.records()[start:] if r["status"] == 204]
    seconds = max(got[-1]["t"] - got[0]["t"], 1e-9) if len(got) > 1 else float("nan")
    return {"backlog": backlog, "delivered": len(got), "all_delivered": done is not None,
            "seconds": round(seconds, 2),
            "deliveries_per_s": round(len(got) / seconds, 1),
            "events_per_s": round(len(got) / seconds / len(ids), 1),
            "service_cpu_ms_per_delivery": round(1000 * cpu[0] / max(len(got), 1), 3),
            "postgres_cpu_ms_per_delivery": round(1000 * cpu[1] / max(len(got), 1), 3)}


@dataclass
class Running:
    """The service as it runs now (a kill replaces the process)."""

    url: str
    workers: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_service(self.url, self.workers)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def delivery_phase(engine: Engine, receiver: Receiver, token: str, admin: str,
                   rate: float, points: np.ndarray, args: argparse.Namespace
                   ) -> dict[str, Any]:
    """(b): `--delivery-subscriptions` new subscriptions, `rate` incidents/s for
    `--load-seconds`; throughput and lag of the deliveries meanwhile (lag over the events of
    the load after its warm-up, however late they arrived). The subscriptions are disabled
    afterwards and what they had left dropped."""
    label = f"/rate{rate:g}"
    paths = subscribe(admin, receiver, [f"{label}/{i}" for i in range(
        1, args.delivery_subscriptions + 1)])
    ids = list(paths.values())
    start = len(receiver.records())
    backlog = Backlog(engine, ids)
    backlog.start()
    prefix = f"WH-rate{rate:g}-"
    with loaded(token, points, rate, prefix, args.think, args.follow_up) as load:
        time.sleep(args.load_seconds)
    caught_up = drained(engine, ids, args.drain_seconds)
    left = pending(engine, ids)
    backlog.halt.set()
    execute(engine, "UPDATE webhook_subscription SET enabled = false WHERE id = ANY(:ids)",
            ids=ids)
    execute(engine, "DELETE FROM webhook_delivery WHERE status = 'pending' "
            "AND subscription_id = ANY(:ids)", ids=ids)
    execute(engine, UNFANNED_DROPPED)
    if not ids:  # the baseline: the same load with nobody subscribed
        result = {"rate": rate, "subscriptions": 0, "load": load.summary()}
        print("delivery", json.dumps(result), flush=True)
        return result
    got = [r for r in receiver.records()[start:] if r["path"] in paths and r["first"]]
    warm = load.started + args.warm_up
    window = [r for r in got if warm <= event_time(r) <= load.stopped]
    arrived = [r for r in got if warm <= r["t"] <= load.stopped]
    seconds = load.stopped - warm
    with engine.connect() as connection:
        outbox = check_outbox(connection, f"{prefix}%")
    result = {"rate": rate, "subscriptions": len(ids), "load": load.summary(),
              "outbox": outbox,
              "events_stored_per_s": round(outbox["messages"] / (load.stopped - load.started),
                                           1),
              "deliveries_per_s": round(len(arrived) / seconds, 1),
              "events_per_s": round(len(arrived) / seconds / len(ids), 1),
              "lag_s": percentiles([r["t"] - event_time(r) for r in window]),
              "lag_by_type_p95_s": {kind: percentiles(
                  [r["t"] - event_time(r) for r in window if r["type"] == kind])["p95"]
                  for kind in INCIDENT_EVENTS},
              "backlog_most": backlog.most(),
              "caught_up_after_load_s": round(caught_up - load.stopped, 2)
              if caught_up else None, "left_undelivered": left}
    print("delivery", json.dumps(result), flush=True)
    return result


def fault_phase(name: str, url: str, engine: Engine, receiver: Receiver, service: Running,
                token: str, paths: dict[str, int], points: np.ndarray,
                args: argparse.Namespace) -> dict[str, Any]:
    """(c): the load, the fault after `--lead` seconds, the load on for `--after` seconds
    after the fault ends; drained; everything checked."""
    ids = list(paths.values())
    backlog = Backlog(engine, ids)
    backlog.start()
    fault: dict[str, Any] = {}
    with loaded(token, points, args.fault_rate, f"WH-{name}-", args.think) as load:
        time.sleep(args.lead)
        fault["at"] = time.time()
        if name == "receiver":
            receiver.stop()
            time.sleep(args.receiver_down)
            receiver.start()
            fault["kind"] = f"receiver stopped for {args.receiver_down} s"
        elif name == "kill":
            assert service.process is not None
            fault["processes_killed"] = kill_service(service.process)
            service.start()
            fault["kind"] = "SIGKILL to the service's processes, started again at once"
        elif name == "pg":
            fault["pg_ctl_s"] = round(restart_postgres(url), 2)
            fault["kind"] = "pg_ctl restart -m fast"
        fault["ended"] = time.time()
        fault["lasted_s"] = round(fault["ended"] - fault["at"], 2)
        time.sleep(args.after)
    done = drained(engine, ids, args.drain_seconds)
    backlog.halt.set()
    records = receiver.records()
    # the last arrival of an event that happened before the fault ended: all caught up then
    before_end = [r for r in records if r["path"] in paths and r["first"]
                  and event_time(r) <= fault["ended"]]
    caught_up = max((r["t"] for r in before_end), default=fault["ended"])
    with engine.connect() as connection:
        checked = check_deliveries(connection, records, paths)
        checked.update(check_outbox(connection, "WH-%"))
    result = {"fault": {k: v for k, v in fault.items() if k not in ("at", "ended")},
              "load": load.summary(), "backlog_most": backlog.most(fault["at"]),
              "caught_up_after_fault_s": round(caught_up - fault["ended"], 2),
              "drained": done is not None, "checks": checked, "all_good": all_good(checked)}
    print(name, json.dumps(result), flush=True)
    return result


# --- the report -----------------------------------------------------------------------------

def tables(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    lines = []
    intake = results.get("intake")
    if intake:
        lines += ["| round | subscriptions | incidents/s | p50 | p90 | p99 | service + PG CPU "
                  "/ report | delivered meanwhile |", "|---|---|---|---|---|---|---|---|"]
        for r in intake["rounds"]:
            lines.append(f"| {r['round']} | {r['mode']} | {r['requests_per_s']:,.0f} | "
                         f"{r.get('p50_ms', 0):.1f} ms | {r.get('p90_ms', 0):.1f} ms | "
                         f"{r.get('p99_ms', 0):.1f} ms | {r['service_cpu_ms_per_report']:.2f}"
                         f" + {r['postgres_cpu_ms_per_report']:.2f} ms | "
                         f"{r['delivered_during']:,} |")
        lines += ["", "3 subscriptions / none, each round's pair: rate, write path "
                  + ", ".join(f"{x:.2f}" for x in intake["paired_rate_ratios_write_path"])
                  + f" (median **{intake['median_paired_rate_ratio_write_path']:.2f}**)."
                  f" Best rounds: rate, write path "
                  f"{intake['rate_ratio_write_path']:.2f}, delivering "
                  f"{intake['rate_ratio_delivering']:.2f}; CPU per report (write path) "
                  f"{intake['cpu_ratio_write_path']:.2f}×. Medians of the rounds: rate "
                  f"{intake['median_rate_ratio_write_path']:.2f}, CPU per report "
                  f"{intake['median_cpu_ratio_write_path']:.2f}×", ""]
        drain = intake.get("drain")
        if drain:
            lines += [f"drain of a {drain['backlog']:,}-delivery backlog, service idle: "
                      f"**{drain['deliveries_per_s']:,.0f} deliveries/s** "
                      f"({drain['events_per_s']:,.0f} events/s × 3), service "
                      f"{drain['service_cpu_ms_per_delivery']:.2f} + PostgreSQL "
                      f"{drain['postgres_cpu_ms_per_delivery']:.2f} ms CPU per delivery", ""]
    for base in (r for r in results.get("delivery", []) if not r["subscriptions"]):
        load = base["load"]
        lines += [f"baseline, nobody subscribed, {base['rate']:g} incidents/s asked: "
                  f"{load['incidents_per_s']} incidents/s and {load['actions_per_s']} actions/s "
                  f"answered, intake p50/p99 {load['report_p50_p99_ms'][0]:.0f}/"
                  f"{load['report_p50_p99_ms'][1]:.0f} ms, actions "
                  f"{load['action_p50_p99_ms'][0]:.0f}/{load['action_p50_p99_ms'][1]:.0f} ms", ""]
    runs = [r for r in results.get("delivery", []) if r["subscriptions"]]
    if runs:
        lines += ["| incidents/s asked | " + " | ".join(f"{r['rate']:g}" for r in runs) + " |",
                  "|---|" + "---|" * len(runs)]

        def line(label: str, value: Any) -> None:
            lines.append(f"| {label} | " + " | ".join(str(value(r)) for r in runs) + " |")

        line("incidents/s, actions/s answered", lambda r: (
            f"{r['load']['incidents_per_s']}, {r['load']['actions_per_s']}"))
        line("intake / action p50, p99", lambda r: (
            f"{r['load']['report_p50_p99_ms'][0]:.0f}, {r['load']['report_p50_p99_ms'][1]:.0f}"
            f" / {r['load']['action_p50_p99_ms'][0]:.0f}, "
            f"{r['load']['action_p50_p99_ms'][1]:.0f} ms"))
        line("events stored/s", lambda r: r["events_stored_per_s"])
        line("events delivered/s (to each of N receivers)", lambda r: (
            f"{r['events_per_s']} (N = {r['subscriptions']})"))
        line("**lag** p50 / **p95** / p99 / max", lambda r: (
            f"{r['lag_s']['p50']:.2f} / **{r['lag_s']['p95']:.2f}** / {r['lag_s']['p99']:.2f}"
            f" / {r['lag_s']['max']:.2f} s"))
        line("lag p95: created / updated / closed", lambda r: " / ".join(
            f"{r['lag_by_type_p95_s'][k]:.2f}" for k in INCIDENT_EVENTS[:3]) + " s")
        line("backlog at most (deliveries)", lambda r: f"{r['backlog_most']:,}")
        line("caught up after the load stopped", lambda r: f"{r['caught_up_after_load_s']} s")
        lines.append("")
    faults = results.get("faults")
    if faults:
        names = list(faults)
        lines += ["| | " + " | ".join(faults[n]["fault"]["kind"] for n in names) + " |",
                  "|---|" + "---|" * len(names)]

        def row(label: str, value: Any) -> None:
            lines.append(f"| {label} | " + " | ".join(str(value(faults[n])) for n in names)
                         + " |")

        row("load (incidents/s, actions/s)", lambda f: f"{f['load']['incidents_per_s']}, "
            f"{f['load']['actions_per_s']}")
        row("backlog at most", lambda f: f"{f['backlog_most']:,}")
        row("all caught up after the fault", lambda f: f"{f['caught_up_after_fault_s']} s")
        row("deliveries stored (cumulative)", lambda f: f"{f['checks']['deliveries_stored']:,}")
        row("requests / refused / bad signature", lambda f: (
            f"{f['checks']['requests']:,} / {f['checks']['refused_503']} / "
            f"{f['checks']['bad_signature_401']}"))
        row("cut short by the sender's death (not arrived again after)", lambda f: (
            f"{f['checks']['cut_short_by_sender']} "
            f"({f['checks']['cut_short_not_redelivered']})"))
        row("**lost** / unknown / pending / failed", lambda f: (
            f"**{f['checks']['lost']}** / {f['checks']['unknown_arrived']} / "
            f"{f['checks']['pending']} / {f['checks']['failed']}"))
        row("redelivered (same webhook-id, same body)", lambda f: (
            f"{f['checks']['redelivered']} ({f['checks']['redelivered_different_body']} "
            f"differ)"))
        row("arrived before an earlier event of its incident", lambda f: (
            f"**{f['checks']['arrived_before_an_earlier_event']}**"))
        row("de-duplicating receiver: each exactly once", lambda f: (
            f"**{'yes' if f['checks']['dedup_exactly_once'] else 'NO'}** "
            f"({f['checks']['dedup_seen']:,})"))
        row("history rows without their event", lambda f: (
            f"{f['checks']['incidents_missing_an_event']} of "
            f"{f['checks']['incidents']:,} incidents"))
    return "\n".join(lines)


def run(url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"settings": {
        k: v for k, v in vars(args).items() if k != "json"}}
    engine = migrations.migrated_engine(url)
    token, xs, ys = prepare(engine, folder)
    with sessionmaker(bind=engine)() as session:
        auth_service.add_account(session, username="hooks", role="admin")
        admin = auth_service.issue_token(session, username="hooks")
        session.commit()
    points = np.column_stack([xs, ys])
    with receiving(folder) as receiver:
        os.environ.update(GIS_WEBHOOK_ALLOWED_HOSTS=receiver.host,
                          GIS_WEBHOOK_RETRY_SECONDS=args.retry_seconds,
                          GIS_WEBHOOK_POLL_SECONDS="0.5", GIS_INTAKE_BATCH_MAX=str(
                              args.batch_max))
        if args.intake_seconds > 0:
            results["intake"] = intake_phase(url, engine, folder, receiver, admin, token,
                                             xs, ys, args)
        service = Running(url, args.workers)
        service.start()
        try:
            if args.load_seconds > 0:
                results["delivery"] = [delivery_phase(engine, receiver, token, admin, rate,
                                                      points, args) for rate in args.rate]
            paths = subscribe(admin, receiver, ["/s/1", "/s/2", "/s/3"])
            results["faults"] = {}
            for name in [f for f in args.faults.split(",") if f]:
                results["faults"][name] = fault_phase(name, url, engine, receiver, service,
                                                      token, paths, points, args)
        finally:
            service.stop()
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="a ~3-minute run: every phase shorter (explicit options win)")
    parser.add_argument("--intake-seconds", type=int, help="per intake round (0: skip)")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-max", type=int, default=64)
    parser.add_argument("--rate", type=lambda v: [float(r) for r in v.split(",")],
                        help="incidents/s in (b), one run per rate (100,60,30; short: 30)")
    parser.add_argument("--delivery-subscriptions", type=int, default=1,
                        help="subscriptions (receivers) in (b)")
    parser.add_argument("--fault-rate", type=float, default=20.0,
                        help="incidents/s in (c), 3 subscriptions")
    parser.add_argument("--think", type=lambda s: tuple(float(v) for v in s.split("-")),
                        default=(0.2, 1.0), help="pause before each action, seconds, a-b")
    parser.add_argument("--load-seconds", type=int, help="the load in (b) (0: skip)")
    parser.add_argument("--follow-up", type=float, default=1.0,
                        help="the share of (b)'s incidents that get their actions (0: "
                             "intake alone)")
    parser.add_argument("--warm-up", type=float, default=5.0)
    parser.add_argument("--receiver-down", type=int)
    parser.add_argument("--lead", type=int, help="load before each fault, seconds")
    parser.add_argument("--after", type=int, help="load after each fault, seconds")
    parser.add_argument("--drain-seconds", type=int, default=300,
                        help="the longest wait for a backlog to be delivered")
    parser.add_argument("--faults", default="receiver,kill,pg")
    parser.add_argument("--retry-seconds", default=BENCH_RETRIES)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    defaults = ({"intake_seconds": 5, "rounds": 1, "rate": [30.0], "load_seconds": 15,
                 "receiver_down": 15, "lead": 3, "after": 5} if args.short else
                {"intake_seconds": 15, "rounds": 3, "rate": [100.0, 60.0, 30.0],
                 "load_seconds": 60, "receiver_down": 120, "lead": 10, "after": 20})
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if os.environ.get("DATABASE_URL") and "pg" in args.faults:
        parser.error("the pg fault restarts the throw-away cluster: unset DATABASE_URL")
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    try:
        with throwaway_database(durable=True) as url:
            results = run(url, args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    results["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(results, indent=2))
    print()
    print(tables(results))
    write_json(results, args.json)
    faults = results.get("faults", {})
    if any(not f["all_good"] for f in faults.values()):
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if len(sys.argv) > 1 and sys.argv[1] == "receiver":
        receiver_main(sys.argv[2:])
    else:
        main()
