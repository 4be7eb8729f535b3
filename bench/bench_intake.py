"""Intake over HTTP: locate + route + persist + history with durable commits, under load.

    .venv/bin/python bench/bench_intake.py [--seconds 20] [--connections 16] [--workers 2]
                                           [--rounds 2] [--batch-max 64]
                                           [--json bench/out/intake.json]

Starts a throw-away embedded PostGIS with durable commits (fsync on), imports the synthetic
town with one grid worker per level-3 grid and a small responsibility list through the
ordinary importers, runs `gis-service serve`, and drives `POST /api/v1/incidents` with wrk
from loopback (every request a new report with its own external id and a random point).
Rounds alternate group commit off (`GIS_INTAKE_BATCH_MAX=0`: a transaction per report) and on,
on the same database; each round also reports the CPU the service and PostgreSQL spent per
stored report, which a busy machine disturbs less than the rate.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import psutil
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import (
    _milliseconds,
    random_points,
    served,
    write_town,
)
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import

CATEGORIES = [("GARBAGE", "垃圾堆放", "grid", "", "", 2, 24),
              ("BUILDING", "违章搭建", "squad", "", "JS", 4, 72),
              ("POLLUTION", "水体污染", "department", "HB", "JS", 1, 12)]


def write_people(folder: Path, level3: list[str]) -> dict[str, Path]:
    """Departments, one grid worker per level-3 grid (each the next one's backup), rules."""
    (folder / "departments.csv").write_text("code,name\nJS,建设局\nHB,环保办\n")
    lines = ["code,name,role,grid_code,district_code,department_code,backup_code,on_duty"]
    for i, grid in enumerate(level3):
        backup = f"W{(i + 1) % len(level3):03d}"
        on_duty = "no" if i % 7 == 0 else "yes"  # some A posts absent: their B posts cover
        lines.append(f"W{i:03d},网格员{i},grid_worker,{grid},,,{backup},{on_duty}")
    (folder / "workers.csv").write_text("\n".join(lines) + "\n")
    rows = ["category_code,category_name,handler,department_code,cooperating,"
            "respond_hours,resolve_hours"]
    rows += [",".join(str(v) for v in c) for c in CATEGORIES]
    (folder / "responsibilities.csv").write_text("\n".join(rows) + "\n")
    return {k: folder / f"{k}.csv" for k in ("departments", "workers", "responsibilities")}


def wrk_script(folder: Path, token: str, xs: np.ndarray, ys: np.ndarray,
               prefix: str = "B") -> Path:
    """A wrk script that posts a new report per request, cycling through points (external
    ids start with `prefix`: a new one per run, or every report is a repeat)."""
    points = ",".join(f"{{{x:.6f},{y:.6f}}}" for x, y in zip(xs, ys, strict=True))
    script = folder / "intake.lua"
    script.write_text(f"""
local p = {{{points}}}
local cats = {{"GARBAGE", "BUILDING", "POLLUTION"}}
local n = 0
local thread_id = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
request = function()
  n = n + 1
  local i = n % #p + 1
  local body = string.format(
    '{{"source":"hotline_12345","external_id":"{prefix}%d-%d","category":"%s",' ..
    '"description":"bench","location":{{"lon":%s,"lat":%s}}}}',
    tid, n, cats[n % 3 + 1], p[i][1], p[i][2])
  return wrk.format(nil, "/api/v1/incidents", nil, body)
end
""")
    return script


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def postmaster_pid(engine: Engine) -> int:
    """The cluster's postmaster: the parent of any backend."""
    with engine.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return int(psutil.Process(backend).ppid())


def prepare(engine: Engine, folder: Path) -> tuple[str, np.ndarray, np.ndarray]:
    """The synthetic town, its people and rules, an account; its token and points to report
    at."""
    with sessionmaker(bind=engine)() as session:
        assert run_import(session, "grids", write_town(folder / "town.geojson", False)).accepted
        level3 = list(session.scalars(text("SELECT code FROM grid_version WHERE level = 3 "
                                           "ORDER BY code")))
        for kind, path in write_people(folder, level3).items():
            report = run_import(session, kind, path)
            assert report.accepted, report.lines()
        auth_service.add_account(session, username="bench", role="dispatcher")
        token = auth_service.issue_token(session, username="bench")
        session.commit()
        xs, ys = random_points(session, 2000, seed=4)
    return token, xs, ys


def one_round(url: str, engine: Engine, script: Path, seconds: int, connections: int,
              workers: int, batch_max: int) -> dict[str, float]:
    """Serve with the given group-commit batch size and drive it with wrk."""
    os.environ["GIS_INTAKE_BATCH_MAX"] = str(batch_max)
    port = free_port()  # another benchmark may be serving on a fixed one
    with served(url, port, workers=workers) as process:
        postmaster = postmaster_pid(engine)
        with engine.connect() as connection:
            before = connection.execute(text("SELECT count(*) FROM incident")).scalar_one()
        cpu = (cpu_seconds(process.pid), cpu_seconds(postmaster))
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
             str(script), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True).stdout
        cpu = (cpu_seconds(process.pid) - cpu[0], cpu_seconds(postmaster) - cpu[1])
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM incident")).scalar_one() - before
    result: dict[str, float] = {
        "batch_max": batch_max,
        "requests_per_s": float(out.split("Requests/sec:")[1].split()[0]),
        "stored": stored,
        "non_2xx": int(out.split("Non-2xx or 3xx responses:")[1].split()[0])
        if "Non-2xx" in out else 0,
        "service_cpu_ms_per_report": round(1000 * cpu[0] / max(stored, 1), 3),
        "postgres_cpu_ms_per_report": round(1000 * cpu[1] / max(stored, 1), 3)}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            result[f"p{parts[0].rstrip('%')}_ms"] = _milliseconds(parts[1])
    return result


def run(url: str, seconds: int, connections: int, workers: int, rounds: int,
        batch_max: int) -> dict[str, object]:
    """Alternating rounds with group commit off (one transaction per report) and on."""
    engine = migrations.migrated_engine(url)
    folder = Path(tempfile.mkdtemp())
    token, xs, ys = prepare(engine, folder)
    modes = [0, batch_max] if batch_max > 0 else [0]
    results = [one_round(url, engine, wrk_script(folder, token, xs, ys, f"R{n}M{mode}-"),
                         seconds, connections, workers, mode)
               for n in range(rounds) for mode in modes]
    with engine.connect() as connection:
        routed = connection.execute(text(
            "SELECT count(*) FROM incident WHERE status = 'dispatched'")).scalar_one()
        total = connection.execute(text("SELECT count(*) FROM incident")).scalar_one()
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    best = {mode: max((r for r in results if r["batch_max"] == mode),
                      key=lambda r: r["requests_per_s"]) for mode in modes}
    return {"workers": workers, "connections": connections, "seconds": seconds,
            "stored": total, "dispatched": routed, "rounds": results,
            "best": {str(mode): best[mode] for mode in modes},
            "ratio": round(best[modes[-1]]["requests_per_s"] / best[0]["requests_per_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-max", type=int, default=64,
                        help="group commit's largest batch (compared with 0, i.e. off)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database(durable=True) as url:
        results = run(url, args.seconds, args.connections, args.workers, args.rounds,
                      args.batch_max)
    print(json.dumps(results, indent=2))
    write_json(results, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
