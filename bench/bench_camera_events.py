"""Camera events over HTTP: a burst from many cameras through the intake, beside as many
ordinary reports in the same run, and whether the fold is exact.

    .venv/bin/python bench/bench_camera_events.py [--events 5000] [--cameras 200]
        [--seconds 60] [--window-seconds 10] [--workers 2] [--batch-max 64] [--warmup 400]
        [--json bench/out/camera_events.json]

Starts a throw-away embedded PostGIS with durable commits (or uses DATABASE_URL), imports the
synthetic town with its people and rules (`bench_intake.prepare`), `--cameras` cameras at
random points inside it and four video scenes (one routed at once, one that must stay a
minute, one unsure below 0.6, a GB/T 28181 alarm a person confirms) through the ordinary
importers, and serves it with `gis-service serve` (`GIS_VIDEO_FOLD_MINUTES` set from
`--window-seconds`, so that a minute holds several windows).

Then, in one run, after a warm-up that is not measured (`--warmup` requests of each kind):
  1. baseline: `--events` ordinary reports (12345 hotline, a category and a point) spread over
     `--seconds`, each camera's point reporting in turn as one client;
  2. camera events: `--events` detections on the same schedule, each camera with one or two
     scenes, confidence mostly sure with some noise, 2 % of them sent again with the same
     external id (a platform's retry). Each camera sends its events in order, one at a time
     (as a camera platform does), so that the expected fold is known.

For each phase: the intake's latency (p50/p90/p99/max, from sending to the answer), the
answers' codes, and the CPU the service, PostgreSQL and this client spent per request (read
from the processes' counters: what a busy machine disturbs least). For the events: incidents stored
against the expected number (each camera × scene split into windows where two detections are
more than the window apart), the detections counted against the distinct events sent, every
pair's incidents and counts against the expectation, and the history chains.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import cpu_seconds, free_port, postmaster_pid, prepare
from bench.bench_locate_service import served
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.imports.service import run_import
from gis_service.incidents import audit

# (scene, category, min_confidence, dwell_seconds, needs_confirmation)
SCENES = [("暴露垃圾", "GARBAGE", 0.5, 0, "no"), ("占道经营", "BUILDING", 0.6, 60, "no"),
          ("店外经营", "BUILDING", 0.6, 0, "no"), ("gb28181:2", "POLLUTION", 0.0, 0, "yes")]
RESEND_SHARE = 0.02


@dataclass(frozen=True)
class Sent:
    """One request of the schedule: which camera, when (seconds into the phase), what."""

    camera: int
    offset: float
    body: dict[str, Any]
    fresh: bool  # False: a resend of an earlier event (same external id)


def place_cameras(engine: Engine, folder: Path, count: int) -> list[tuple[str, float, float]]:
    """`count` cameras at random points inside the town, imported; (code, lon, lat)."""
    with engine.connect() as connection:
        points = connection.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM grid_version g, "
            "ST_Dump(ST_GeneratePoints(g.geom, :n, 7)) p "
            "WHERE g.level = 1 AND g.valid_to IS NULL"), {"n": count}).all()
    cameras = [(f"32050900081320{n:06d}", float(x), float(y))
               for n, (x, y) in enumerate(points[:count])]
    lines = ["code,name,lon,lat,direction,ptz,owner"]
    lines += [f"{code},摄像机{n},{x:.7f},{y:.7f},{(n * 37) % 360},dome,城管中队"
              for n, (code, x, y) in enumerate(cameras)]
    (folder / "cameras.csv").write_text("\n".join(lines) + "\n")
    rows = ["scene,category_code,min_confidence,dwell_seconds,needs_confirmation"]
    rows += [",".join(str(v) for v in scene) for scene in SCENES]
    (folder / "scenes.csv").write_text("\n".join(rows) + "\n")
    with sessionmaker(bind=engine)() as session:
        for kind, name in (("cameras", "cameras.csv"), ("video_scenes", "scenes.csv")):
            report = run_import(session, kind, folder / name)
            assert report.accepted, report.lines()
        session.commit()
    return cameras


def schedule(cameras: list[tuple[str, float, float]], events: int, seconds: float,
             start: datetime, seed: int, camera_events: bool, prefix: str = "") -> list[Sent]:
    """The phase's requests: each camera's share at random moments, in time order (external
    ids EV-… for camera events, HL-… for reports, after `prefix`)."""
    rng = random.Random(seed)
    sent: list[Sent] = []
    per_camera = [events // len(cameras) + (1 if n < events % len(cameras) else 0)
                  for n in range(len(cameras))]
    for n, ((code, lon, lat), count) in enumerate(zip(cameras, per_camera, strict=True)):
        scenes = rng.sample(SCENES, rng.choice((1, 2)))
        earlier: list[dict[str, Any]] = []
        for k, offset in enumerate(sorted(rng.uniform(0, seconds) for _ in range(count))):
            if camera_events and earlier and rng.random() < RESEND_SHARE:
                sent.append(Sent(n, offset, rng.choice(earlier), False))
                continue
            at = (start + timedelta(seconds=offset)).isoformat()
            if camera_events:
                sure = rng.random() >= 0.15
                body = {"source": "video", "external_id": f"{prefix}EV-{n}-{k}",
                        "camera_code": code, "scene": rng.choice(scenes)[0], "reported_at": at,
                        "confidence": round(rng.uniform(0.6, 1.0) if sure
                                            else rng.uniform(0.1, 0.5), 3)}
                earlier.append(body)
            else:
                body = {"source": "hotline_12345", "external_id": f"{prefix}HL-{n}-{k}",
                        "category": rng.choice(SCENES)[1], "reported_at": at,
                        "description": "bench", "location": {"lon": lon, "lat": lat}}
            sent.append(Sent(n, offset, body, True))
    return sorted(sent, key=lambda s: (s.camera, s.offset))


class Connection:
    """One camera's keep-alive HTTP/1.1 connection, written by hand: a general client (httpx)
    spent 4–7 ms of CPU per request on the same two cores the service runs on."""

    IDLE = 3.0  # seconds: let go before the server's keep-alive (5 s) ends it

    def __init__(self, port: int, token: str) -> None:
        self.port, self.head = port, (f"POST /api/v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      f"Authorization: Bearer {token}\r\n"
                                      "Content-Type: application/json\r\n")
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.used = 0.0

    async def post(self, body: dict[str, Any]) -> int:
        """Send the report; the answer's status (the body is read and dropped)."""
        if self.streams is None or time.perf_counter() - self.used > self.IDLE:
            self.close()
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        data = orjson.dumps(body)
        writer.write(f"{self.head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        status = int((await reader.readline()).split()[1])
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep = False
        await reader.readexactly(length)
        self.used = time.perf_counter()
        if not keep:
            self.close()
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def drive(port: int, token: str, sent: list[Sent]) -> dict[str, Any]:
    """Each camera as its own client sending its requests in order at their moments; the
    latencies (ms) and the answers' codes."""
    by_camera: dict[int, list[Sent]] = defaultdict(list)
    for request in sent:
        by_camera[request.camera].append(request)
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    retried = 0
    began = time.perf_counter()

    async def camera(requests: list[Sent]) -> None:
        nonlocal retried
        connection = Connection(port, token)
        for request in requests:
            wait = began + request.offset - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            sent_at = time.perf_counter()
            try:
                status = await connection.post(request.body)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                retried += 1  # a connection the server had closed: sent again on a new one
                connection.close()  # (safe: every request has its external id)
                status = await connection.post(request.body)
            latencies.append((time.perf_counter() - sent_at) * 1000)
            codes[status] += 1
        connection.close()

    await asyncio.gather(*(camera(requests) for requests in by_camera.values()))
    took = time.perf_counter() - began
    values = np.array(latencies)
    return {"requests": len(latencies), "seconds": round(took, 1),
            "requests_per_s": round(len(latencies) / took, 1),
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p90_ms": round(float(np.percentile(values, 90)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2),
            "codes": {str(code): n for code, n in sorted(codes.items())}, "retried": retried}


def expected_fold(sent: list[Sent], window: timedelta) -> dict[tuple[str, str], list[int]]:
    """Each (camera, scene): the detections of each incident it should have, in order (a new
    incident where two detections are more than the window apart)."""
    times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for request in sent:
        if request.fresh:
            body = request.body
            times[(body["camera_code"], body["scene"])].append(
                datetime.fromisoformat(body["reported_at"]))
    expected: dict[tuple[str, str], list[int]] = {}
    for pair, seen in times.items():
        counts: list[int] = []
        last: datetime | None = None
        for at in sorted(seen):
            if last is None or at - last > window:
                counts.append(0)
            counts[-1] += 1
            last = at
        expected[pair] = counts
    return expected


def check_fold(engine: Engine, sent: list[Sent], window: timedelta) -> dict[str, Any]:
    """The stored camera incidents against the expected fold."""
    expected = expected_fold(sent, window)
    stored: dict[tuple[str, str], list[int]] = defaultdict(list)
    with engine.connect() as connection:
        rows = connection.execute(text(  # the phase's (the warm-up's ids begin with WU)
            "SELECT camera_code, scene, detections, status FROM incident "
            "WHERE camera_code IS NOT NULL AND external_id LIKE 'EV-%' "
            "ORDER BY camera_code, scene, reported_at")).all()
        detect_rows = connection.execute(text(
            "SELECT count(*) FROM incident_event e JOIN incident i ON i.id = e.incident_id "
            "WHERE e.action = 'detect' AND i.external_id LIKE 'EV-%'")).scalar_one()
        updates, hot = connection.execute(text(  # (this backend's counts are flushed first)
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'incident'")).one()
    statuses: Counter[str] = Counter()
    for camera, scene, detections, status in rows:
        stored[(camera, scene)].append(int(detections))
        statuses[status] += 1
    distinct = sum(1 for request in sent if request.fresh)
    wrong = sorted(f"{c}/{s}" for c, s in set(expected) | set(stored)
                   if expected.get((c, s)) != stored.get((c, s)))
    with sessionmaker(bind=engine)() as session:
        broken = list(audit.verify_all(session))
    incidents = len(rows)
    return {"pairs": len(expected), "incidents_expected": sum(map(len, expected.values())),
            "incidents_stored": incidents, "events_distinct": distinct,
            "resent": len(sent) - distinct,
            "detections_counted": sum(d for counts in stored.values() for d in counts),
            "detect_history_rows": int(detect_rows), "pairs_wrong": wrong[:10],
            "statuses": dict(statuses), "broken_chains": len(broken),
            "incident_updates": int(updates), "incident_updates_in_place": int(hot),
            "exact": not wrong and detect_rows == distinct - incidents and not broken}


def run(url: str, events: int, cameras_n: int, seconds: float, window_s: float, workers: int,
        batch_max: int, warmup: int) -> dict[str, Any]:
    """Prepare the town, serve it, run the baseline and the camera events, check the fold."""
    engine = migrations.migrated_engine(url)
    folder = Path(tempfile.mkdtemp())
    try:
        token, _, _ = prepare(engine, folder)
        cameras = place_cameras(engine, folder, cameras_n)
        os.environ["GIS_INTAKE_BATCH_MAX"] = str(batch_max)
        os.environ["GIS_VIDEO_FOLD_MINUTES"] = repr(window_s / 60)
        os.environ["GIS_ESCALATION_INTERVAL_SECONDS"] = "0"
        port = free_port()
        phases: dict[str, Any] = {}
        with served(url, port, workers=workers) as process:
            postmaster = postmaster_pid(engine)
            # warm-up, not measured: each process's connections, prepared statements, caches
            # (camera events a day back, beyond every window of the phase)
            for camera_events in (False, True) if warmup else ():
                asyncio.run(drive(port, token, schedule(
                    cameras, warmup, 5.0, datetime.now(UTC) - timedelta(days=1), 0,
                    camera_events, "WU")))
            for name, camera_events, seed in (("reports", False, 1), ("camera_events", True, 2)):
                sent = schedule(cameras, events, seconds, datetime.now(UTC), seed,
                                camera_events)
                print(f"{name}: {len(sent)} requests over {seconds:g} s", flush=True)
                cpu = (cpu_seconds(process.pid), cpu_seconds(postmaster))
                client = time.process_time()
                phases[name] = asyncio.run(drive(port, token, sent))
                phases[name]["client_cpu_ms_per_request"] = round(
                    1000 * (time.process_time() - client) / len(sent), 3)
                phases[name]["service_cpu_ms_per_request"] = round(
                    1000 * (cpu_seconds(process.pid) - cpu[0]) / len(sent), 3)
                phases[name]["postgres_cpu_ms_per_request"] = round(
                    1000 * (cpu_seconds(postmaster) - cpu[1]) / len(sent), 3)
                print(phases[name], flush=True)
                if camera_events:
                    phases["fold"] = check_fold(engine, sent, timedelta(seconds=window_s))
        return {"events": events, "cameras": cameras_n, "seconds": seconds,
                "window_s": window_s, "warmup": warmup, "workers": workers,
                "batch_max": batch_max, **phases}
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--window-seconds", type=float, default=10.0,
                        help="GIS_VIDEO_FOLD_MINUTES in seconds: a minute holds several")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-max", type=int, default=64,
                        help="group commit's largest batch (0: a transaction per report)")
    parser.add_argument("--warmup", type=int, default=400,
                        help="requests of each kind sent first, not measured")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database(durable=True) as url:
        results = run(url, args.events, args.cameras, args.seconds, args.window_seconds,
                      args.workers, args.batch_max, args.warmup)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
