"""Load and faults: a realistic mix with locust, then the same with PostgreSQL restarted and with
the service killed mid-run; afterwards every acknowledged report is looked up in the database.

    .venv/bin/python bench/bench_load.py [--seconds 60] [--reporters 12] [--workers 2]
                                         [--scenarios steady,pg_restart,kill_service]
                                         [--json bench/out/load.json]

Starts a throw-away embedded PostGIS with durable commits, loads the demo town
(`load_demo_town`), issues the demo accounts' tokens and, per scenario, starts
`gis-service serve` (2 workers, rate limit off) and runs `bench/load/locustfile.py` headless:
reporters on all eight channels (each report retried with the same Idempotency-Key and
external id until acknowledged), 10 map-wall screens and 3 dispatchers. Scenarios:
- steady: the mix alone;
- pg_restart: half-way, `pg_ctl restart -m fast` on the cluster (as its server user);
- kill_service: half-way, SIGKILL to the uvicorn master and its workers, then the service is
  started again at once, as a supervisor (systemd `Restart=always`) would.
Throughout, the orchestrator polls `GET /health` (one database query) every 100 ms, for the
seconds until the service answers again. After each scenario, against the database: every
acknowledged incident exists once, by id and by source + external id (Open311 reports, which
carry no external id, by a token in their description), and every history chain verifies.
Each scenario's raw files (the acknowledged log, the tally, locust's CSVs) stay in
bench/out/load/<scenario>/; the summary is printed and written to --json. ~6 minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import psutil
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.demo import DEMO_DIR, load_demo_town
from gis_service.embedded_pg import SERVER_USER, pg_program
from gis_service.incidents.audit import verify_all

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench/load/locustfile.py"
OPEN311_ATTRIBUTES = ROOT / "gis_service/open311/attributes.json"
PORT = 18790
WALL_SCREENS, DISPATCHERS = 10, 3  # fixed in the locustfile
INTAKE_NAMES = ("POST /api/v1/incidents", "POST /open311/v2/requests.json")
FAILURE_KINDS = ("conn_error", "http_5xx", "http_409", "http_4xx")


def prepare(url: str) -> dict[str, Any]:
    """Migrate, load the demo town, and the plan every scenario shares: tokens, places."""
    engine = migrations.migrated_engine(url)
    with sessionmaker(bind=engine)() as session:
        for line in load_demo_town(session):
            if line.startswith("loading"):
                print(line, flush=True)
        tokens = {"reporter": [auth_service.issue_token(session, username="dispatcher")
                               for _ in range(4)],
                  "wall": [auth_service.issue_token(session, username="commander")],
                  "dispatcher": [auth_service.issue_token(session, username="dispatcher")]}
        session.commit()
    engine.dispose()
    with (DEMO_DIR / "addresses.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    random.Random(7).shuffle(rows)
    places = [{"address": r["address"], "lon": float(r["lon"]), "lat": float(r["lat"])}
              for r in rows[:2000]]
    with (DEMO_DIR / "responsibilities.csv").open(encoding="utf-8") as file:
        categories = [r["category_code"] for r in csv.DictReader(file)]
    return {"tokens": tokens, "places": places, "categories": categories,
            "open311_categories": [c for c in categories if not required_attributes(c)]}


def required_attributes(category: str) -> bool:
    """True when an Open311 report of the category must carry attributes (the reporters
    send none: a citizen's app would ask for them)."""
    if not OPEN311_ATTRIBUTES.exists():
        return False
    attributes = json.loads(OPEN311_ATTRIBUTES.read_text(encoding="utf-8"))
    return any(a.get("required") for a in attributes.get(category, []))


def data_dir(url: str) -> Path:
    """The throw-away cluster's data directory: its socket folder's sibling (embedded_pg)."""
    socket_dir = parse_qs(urlsplit(url).query)["host"][0]
    return Path(socket_dir).parent / "pgdata"


def restart_postgres(url: str) -> float:
    """`pg_ctl restart -m fast` as the server user; the seconds it took."""
    folder = data_dir(url)
    start = time.monotonic()
    # the server's output goes to its log: a pipe would be held open by the new postmaster
    subprocess.run([pg_program("pg_ctl"), "restart", "-w", "-m", "fast", "-D", str(folder),
                    "-l", str(folder.parent / "postgres.log")],
                   user=SERVER_USER if os.geteuid() == 0 else None, cwd="/", check=True,
                   timeout=120, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def kill_service(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL to the uvicorn master and every worker at once; how many processes died."""
    victims = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for victim in victims:
        victim.send_signal(signal.SIGKILL)
    process.wait()
    psutil.wait_procs(victims, timeout=5)
    return len(victims)


def start_service(url: str, workers: int, env: dict[str, str] | None = None
                  ) -> subprocess.Popen[bytes]:
    """`gis-service serve` as bench_locate_service.serve starts it (rate limit off), waited
    for up to 60 s: a start under load takes longer than serve's 10 s."""
    env = {**os.environ, "DATABASE_URL": url, "GIS_RATE_LIMIT_PER_SECOND": "0", **(env or {})}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gis-service"), "serve", "--port", str(PORT), "--workers",
         str(workers), "--log-level", "warning", "--no-access-log"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    # the workers too: killed alone, uvicorn's master would leave them holding the port
    victims = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for victim in victims:
        victim.kill()
    psutil.wait_procs(victims, timeout=5)
    raise RuntimeError("the service did not start")


def cold_start(url: str, workers: int) -> float:
    """Seconds from `gis-service serve` to its first healthy answer, with nothing else
    running: the floor under the kill scenario's recovery."""
    start = time.monotonic()
    process = start_service(url, workers)
    seconds = time.monotonic() - start
    process.terminate()
    process.wait(timeout=30)
    return round(seconds, 2)


class HealthProbe(threading.Thread):
    """GET /health every 100 ms: (time, status) with status 0 for no answer."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=1.0) as client:
            while not self.stopped.is_set():
                try:
                    status = client.get(f"http://127.0.0.1:{PORT}/health").status_code
                except httpx.HTTPError:
                    status = 0
                self.samples.append((time.time(), status))
                self.stopped.wait(0.1)

    def back_after(self, fault_at: float) -> dict[str, Any]:
        """Seconds from the fault to the first 200 after the service stopped answering 200."""
        after = [(t, s) for t, s in self.samples if t >= fault_at]
        down = next((t for t, s in after if s != 200), None)
        if down is None:
            return {"health_failed": False, "health_back_s": 0.0}
        back = next((t for t, s in after if t > down and s == 200), None)
        bad = Counter(str(s) for t, s in after if s != 200)
        return {"health_failed": True, "health_answers_while_down": dict(bad),
                "health_back_s": round(back - fault_at, 2) if back else None}


Fault = Callable[[str, str, subprocess.Popen[bytes], int], dict[str, Any]]


def run_scenario(name: str, url: str, plan: dict[str, Any], args: argparse.Namespace,
                 out: Path, fault_of: Fault | None = None,
                 env: dict[str, str] | None = None) -> dict[str, Any]:
    """Serve, run locust for `args.seconds`, inject the fault half-way (`fault_of`: this
    module's `inject` unless given), stop, measure."""
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*"):
        stale.unlink()
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps({**plan, "run": f"LOAD-{name}-{int(time.time())}",
                                     "out_dir": str(folder)}))
    users = args.reporters + WALL_SCREENS + DISPATCHERS
    server = start_service(url, args.workers, env)
    probe = HealthProbe()
    probe.start()
    locust = subprocess.Popen(
        [str(ROOT / ".venv/bin/locust"), "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
         "-r", str(users), "-t", f"{args.seconds}s", "--stop-timeout", "45",
         "--host", f"http://127.0.0.1:{PORT}", "--csv", str(folder / "locust"),
         "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "GIS_LOAD_PLAN": str(plan_file)}, stdout=subprocess.DEVNULL)
    fault: dict[str, Any] = {}
    try:
        time.sleep(args.seconds / 2)
        fault = (fault_of or inject)(name, url, server, args.workers)
        server = fault.pop("server", server)
        locust.wait(timeout=args.seconds * 3 + 120)
    finally:
        probe.stopped.set()
        if locust.poll() is None:
            locust.kill()
        server.terminate()
        server.wait(timeout=30)
    result = {"fault": fault} if fault else {}
    tally = json.loads((folder / "tally.json").read_text())
    acknowledged = [json.loads(line) for line in
                    (folder / "acknowledged.jsonl").read_text().splitlines()]
    result.update(traffic(tally, fault.get("at")))
    if fault:
        result["recovery"] = {**probe.back_after(fault["at"]),
                              **intake_back(tally, acknowledged, fault["at"])}
    result["checks"] = check(url, acknowledged, json.loads(plan_file.read_text())["run"],
                             tally["started"])
    print(name, json.dumps(result, ensure_ascii=False), flush=True)
    return result


def inject(name: str, url: str, server: subprocess.Popen[bytes],
           workers: int) -> dict[str, Any]:
    """The scenario's fault, at this moment; what was done and when."""
    if name == "pg_restart":
        at = time.time()
        return {"kind": "pg_ctl restart -m fast", "at": at,
                "pg_ctl_s": round(restart_postgres(url), 2)}
    if name == "kill_service":
        at = time.time()
        killed = kill_service(server)
        # the supervisor's part: start it again at once (serve waits until /health answers)
        restarted = start_service(url, workers)
        return {"kind": "SIGKILL uvicorn master + workers, restarted at once", "at": at,
                "processes_killed": killed, "server": restarted,
                "restart_until_healthy_s": round(time.time() - at, 2)}
    return {}


def traffic(tally: dict[str, Any], fault_at: float | None) -> dict[str, Any]:
    """Per request type: p50/p95/p99 of the answered, requests/s, failures by kind (those
    from the fault on apart)."""
    seconds = tally["stopped"] - tally["started"]
    per_type: dict[str, Any] = {}
    for name, kinds in sorted(tally["kinds"].items()):
        latencies = np.array(tally["latencies_ms"].get(name) or [0.0])
        total = sum(kinds.values())
        per_type[name] = {
            "requests": total, "per_s": round(total / seconds, 2),
            **{f"p{q}_ms": round(float(np.percentile(latencies, q)), 1) for q in (50, 95, 99)},
            "ok": kinds.get("ok", 0), "conflicts_409_412": kinds.get("conflict", 0),
            **{k: kinds.get(k, 0) for k in FAILURE_KINDS if kinds.get(k)}}
    failures = tally["failures"]
    during = [f for f in failures if fault_at is not None and f[0] >= fault_at]
    total = sum(v["requests"] for v in per_type.values())
    return {"seconds": round(seconds, 1), "requests": total,
            "requests_per_s": round(total / seconds, 1),
            "error_rate": round(len(failures) / total, 4) if total else None,
            "errors_outside_fault": dict(Counter(f[2] for f in failures
                                                 if fault_at is None or f[0] < fault_at)),
            "errors_from_fault_on": dict(Counter(f[2] for f in during)),
            "error_samples": sorted({f"{f[1]} {f[2]}: {f[3]}" for f in failures})[:12],
            "intake": tally["intake"], "per_type": per_type}


def intake_back(tally: dict[str, Any], acknowledged: list[dict[str, Any]],
                fault_at: float) -> dict[str, Any]:
    """Seconds from the fault to the last failed intake attempt, and to the first report
    acknowledged after it; the last failure of any request type."""
    failed = [f[0] for f in tally["failures"] if f[0] >= fault_at]
    broken = [f[0] for f in tally["failures"] if f[0] >= fault_at
              and f[2] in ("conn_error", "http_5xx")]
    intake_failed = [f[0] for f in tally["failures"] if f[0] >= fault_at
                     and f[1] in INTAKE_NAMES and f[2] in ("conn_error", "http_5xx")]
    if not intake_failed:
        return {"intake_failed": False, "last_error_s": round(max(failed) - fault_at, 2)
                if failed else None}
    last = max(intake_failed)
    back = min((a["acked"] for a in acknowledged if a["acked"] > last), default=None)
    return {"intake_failed": True, "intake_last_failure_s": round(last - fault_at, 2),
            "intake_back_s": round(back - fault_at, 2) if back else None,
            "last_error_s": round(max(failed) - fault_at, 2),
            "last_conn_error_or_5xx_s": round(max(broken) - fault_at, 2),
            "reports_retried": sum(1 for a in acknowledged if a["attempts"] > 1),
            "max_attempts": max(a["attempts"] for a in acknowledged)}


def check(url: str, acknowledged: list[dict[str, Any]], run: str,
          started: float) -> dict[str, Any]:
    """Every acknowledged report stored once, by id and by source + external id (or token);
    every history chain verifies; keys left "in flight"."""
    engine = migrations.migrated_engine(url)
    try:
        with sessionmaker(bind=engine)() as session:
            api = [a for a in acknowledged if a["via"] == "api"]
            o311 = [a for a in acknowledged if a["via"] == "open311"]
            rows = session.execute(text(
                "SELECT id, source, external_id, description FROM incident "
                "WHERE external_id LIKE :run OR description LIKE :token"),
                {"run": f"{run}-%", "token": f"%[{run}-o311-%"}).all()
            by_id = {r.id: r for r in rows}
            per_key = Counter((r.source, r.external_id) for r in rows if r.external_id)
            per_token = Counter(r.description.rsplit("[", 1)[1].rstrip("]")
                                for r in rows if r.external_id is None)
            broken = list(verify_all(session))
            stuck = session.scalar(text(
                "SELECT count(*) FROM idempotency_key WHERE incident_id IS NULL "
                "AND created_at >= to_timestamp(:started)"), {"started": started})
            return {
                "acknowledged": len(acknowledged), "acknowledged_open311": len(o311),
                "stored_by_this_run": len(rows),
                "lost_by_id": sum(1 for a in acknowledged if a["id"] not in by_id),
                "lost_by_external_id": sum(1 for a in api
                                           if per_key[(a["source"], a["external_id"])] == 0),
                "wrong_id": sum(1 for a in api if a["id"] in by_id
                                and by_id[a["id"]].external_id != a["external_id"]),
                "duplicated_api": sum(n - 1 for n in per_key.values() if n > 1),
                "duplicated_open311": sum(n - 1 for n in per_token.values() if n > 1),
                "duplicated_open311_acknowledged": sum(per_token[a["token"]] - 1 for a in o311
                                                       if per_token[a["token"]] > 1),
                "stored_not_acknowledged": len(rows) - len(acknowledged)
                - sum(n - 1 for n in per_token.values() if n > 1),
                "chains_broken": len(broken), "chains_broken_sample": broken[:3],
                "idempotency_keys_left_in_flight": stuck,
                "reports_whose_key_stuck": sum(1 for a in api if a.get("stuck_keys"))}
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--reporters", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenarios", default="steady,pg_restart,kill_service")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/load.json")
    args = parser.parse_args()
    if os.environ.get("DATABASE_URL") and "pg_restart" in args.scenarios:
        parser.error("pg_restart restarts the throw-away cluster: unset DATABASE_URL")
    out = ROOT / "bench/out/load"
    results: dict[str, Any] = {
        "mix": {"reporters": args.reporters, "wall_screens": WALL_SCREENS,
                "dispatchers": DISPATCHERS, "seconds": args.seconds, "workers": args.workers,
                "fault_at_s": args.seconds / 2,
                "pacing": "reporter: a report every 0.3-1.2 s (retries 0.1-0.5 s apart); "
                          "wall: feed every 3 s, kpi every 10 s, heat every 60 s; "
                          "dispatcher: a queue + an action every 1-3 s"}}
    started = time.monotonic()
    with throwaway_database(durable=True) as url:
        plan = prepare(url)
        results["prepare_s"] = round(time.monotonic() - started, 1)
        results["cold_start_idle_s"] = cold_start(url, args.workers)
        for name in args.scenarios.split(","):
            results[name] = run_scenario(name, url, plan, args, out)
    results["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
