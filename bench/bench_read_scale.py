"""Read scale on the cluster: the wall's reads and incident tiles with every read on the
primary, then with the reads that may lag on the two replicas (GIS_READ_DATABASE_URL), in one
run on one machine.

    .venv/bin/python bench/bench_read_scale.py [--seconds 15] [--connections 16] [--workers 2]
                                               [--incidents 200000]
                                               [--json bench/out/read_scale.json]

The cluster on loopback (`gis-service cluster up`'s code), the demo town loaded through the
write port plus `--incidents` more (bench/tiles_fill.sql, as bench_tiles.py does). Then
`gis-service serve` twice on it — `DATABASE_URL` only, then with the read URL too — each
driven by wrk as the demo commander with the wall's reads (the feed from scratch, KPIs, heat
over 30 days, a grid card) and incident tiles of the town at z11–z13, round-robin. Reported
per run: requests/s, p50/p99, and the CPU seconds each PostgreSQL member spent while it ran
(its postmaster and every backend). Every process shares this machine's two cores, so the
replicas cannot add capacity here; what the run shows is where the reads' work goes, i.e. how
much of the leader is left to the intake. Three machines would add the replicas' cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_load import PORT, start_service
from bench.bench_tiles import town_tiles
from bench.bench_wall import fill, load_demo
from bench.common import write_json, wrk_summary
from gis_service.auth import service as auth_service
from gis_service.cluster import control, daemons
from gis_service.cluster.layout import Layout

ROOT = Path(__file__).resolve().parent.parent


def member_cpu(layout: Layout) -> dict[str, float]:
    """CPU seconds used so far by each member's PostgreSQL (postmaster and backends)."""
    used = {}
    for member in layout.members:
        pid = daemons.postmaster_pid(layout, member)
        total = 0.0
        if pid is not None:
            for process in [psutil.Process(pid), *psutil.Process(pid).children()]:
                try:
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
        used[member.name] = total
    return used


def paths(url: str) -> tuple[str, list[str]]:
    """The commander's token and the mix of read paths."""
    engine = create_engine(url)
    with sessionmaker(bind=engine)() as session:
        token = auth_service.issue_token(session, username="commander")
        session.commit()
        tiles = [f"/tiles/incidents/{z}/{x}/{y}.pbf" for z in (11, 12, 13)
                 for x, y in town_tiles(session, z)]
        grid = session.execute(text(
            "SELECT code FROM grid_version WHERE level = 3 AND valid_to IS NULL "
            "ORDER BY code LIMIT 1")).scalar_one()
    engine.dispose()
    wall = ["/api/v1/wall/feed", "/api/v1/wall/kpi", "/api/v1/wall/heat?days=30",
            f"/api/v1/wall/grids/{grid}"]
    return token, wall * max(1, len(tiles) // 8) + tiles


def drive(token: str, mix: list[str], seconds: int, connections: int) -> dict[str, float]:
    listed = ",".join(f'"{p}"' for p in mix)
    script = Path(tempfile.mkdtemp()) / "reads.lua"
    script.write_text(f'local p = {{{listed}}}\nlocal i = 0\n'
                      f'wrk.headers["Authorization"] = "Bearer {token}"\n'
                      'request = function()\n  i = i % #p + 1\n'
                      '  return wrk.format("GET", p[i])\nend\n')
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), f"http://127.0.0.1:{PORT}"],
                         capture_output=True, text=True, check=True).stdout
    return wrk_summary(out)


def one_run(layout: Layout, env: dict[str, str], token: str, mix: list[str],
            args: argparse.Namespace) -> dict[str, Any]:
    server = start_service(layout.write_url(), args.workers, env)
    try:
        drive(token, mix, 3, 4)  # warm-up: pools, caches
        before = member_cpu(layout)
        result: dict[str, Any] = drive(token, mix, args.seconds, args.connections)
        after = member_cpu(layout)
    finally:
        server.terminate()
        server.wait(timeout=30)
    leader = next(m["name"] for m in control.patroni_members(layout) or []
                  if m.get("role") == "leader")
    cpu = {name: round(after[name] - before[name], 2) for name in after}
    total = sum(cpu.values()) or 1.0
    result["postgres_cpu_s"] = cpu
    result["leader"] = leader
    result["leader_share_of_postgres_cpu"] = round(cpu[leader] / total, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/read_scale.json")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gis-read-scale-"))
    home.chmod(0o755)
    started = time.monotonic()
    results: dict[str, Any] = {"seconds": args.seconds, "connections": args.connections,
                               "workers": args.workers, "incidents_added": args.incidents}
    ok = False
    try:
        layout = control.up(home, print)
        engine = create_engine(layout.write_url())
        load_demo(engine)
        if args.incidents:
            fill(engine, args.incidents)
        engine.dispose()
        token, mix = paths(layout.write_url())
        results["mix"] = {"paths": len(mix), "tiles": sum(p.startswith("/tiles") for p in mix)}
        results["primary_only"] = one_run(layout, {}, token, mix, args)
        print("primary only", json.dumps(results["primary_only"]), flush=True)
        results["replicas"] = one_run(layout, {"GIS_READ_DATABASE_URL": layout.read_url()},
                                      token, mix, args)
        print("replicas", json.dumps(results["replicas"]), flush=True)
        results["ratio_requests_per_s"] = round(
            results["replicas"]["requests_per_s"] / results["primary_only"]["requests_per_s"], 2)
        ok = True
    finally:
        # a failed run keeps the cluster's files (its daemons' logs under cluster/run/)
        control.down(home, print, purge=ok)
        if ok:
            shutil.rmtree(home, ignore_errors=True)
    results["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(results, indent=2))
    write_json(results, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
