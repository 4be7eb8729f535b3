"""Fail-over under load: the service on the Patroni cluster while its leader fails, three ways.

    .venv/bin/python bench/bench_failover.py [--seconds 90] [--reporters 12] [--workers 2]
        [--faults pg_kill,patroni_stop,cut] [--intake-seconds 15] [--json bench/out/failover.json]

Needs root: the cluster's three members run in three network namespaces on a bridge
(bench/netns.py), as on three machines, so that one can be cut off the network. HAProxy and
the service stay on the host, with `DATABASE_URL` on HAProxy's write port and
`GIS_READ_DATABASE_URL` on its read port (`gis-service cluster url [--read]`).

1. Intake, the cost of the second copy: bench_intake.py's rounds (group commit off and on)
   against a throw-away embedded PostGIS with durable commits, then against a database on the
   cluster (synchronous replication: a commit returns once the synchronous standby has it).
2. The demo town loaded into the cluster; then per fault, bench_load.py's mix (reporters on
   every channel retrying with the same Idempotency-Key / external id until acknowledged, wall
   screens, dispatchers acting) with the fault injected half-way:
   - pg_kill: SIGKILL to the leader's PostgreSQL (Patroni restarts it, or fails over after
     primary_start_timeout);
   - patroni_stop: the leader's Patroni stopped (SIGTERM: it stops PostgreSQL and hands over);
   - cut: the leader's network link set down (etcd, the other members, HAProxy, clients all
     lose it; it demotes itself; the others elect a new leader once its key expires).
   After each run: every acknowledged report stored once, every history chain verified (see
   bench_load.check), the time until reports are acknowledged again; then the failed member is
   brought back (restarted or healed) and the time until it follows the new leader is noted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_intake, bench_load, netns
from bench.common import throwaway_database, write_json
from gis_service.cluster import control, daemons, files
from gis_service.cluster.files import LOOP_WAIT
from gis_service.cluster.layout import Layout

ROOT = Path(__file__).resolve().parent.parent


def healthy(layout: Layout) -> bool:
    """Three members running, a leader and a synchronous standby, replicas caught up."""
    members = control.patroni_members(layout) or []
    running = [m for m in members if m.get("state") in ("running", "streaming")]
    roles = [m.get("role") for m in running]
    lags = [m.get("lag") for m in running if m.get("role") != "leader"]
    return (len(running) == len(layout.members) and "leader" in roles
            and "sync_standby" in roles
            and all(isinstance(lag, int) and lag < 1 << 20 for lag in lags))


def wait_healthy(layout: Layout, timeout: float = 300) -> float:
    start = time.monotonic()
    while not healthy(layout):
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"the cluster is not healthy: {control.patroni_members(layout)}")
        time.sleep(0.5)
    return round(time.monotonic() - start, 1)


def leader(layout: Layout) -> str:
    for member in control.patroni_members(layout) or []:
        if member.get("role") == "leader":
            return str(member["name"])
    raise RuntimeError("no leader")


def fault_of(layout: Layout, kind: str) -> bench_load.Fault:
    """The fault `kind` as bench_load.run_scenario injects it."""
    def inject(_name: str, _url: str, _server: subprocess.Popen[bytes],
               _workers: int) -> dict[str, Any]:
        name = leader(layout)
        member = layout.member(name)
        at = time.time()
        if kind == "pg_kill":
            pid = daemons.postmaster_pid(layout, member)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            what = "SIGKILL to the leader's PostgreSQL"
        elif kind == "patroni_stop":
            daemons.stop(layout, f"patroni-{name}", timeout=60)
            what = "the leader's Patroni stopped (SIGTERM)"
        else:
            netns.cut(int(name.removeprefix("pg")))
            what = "the leader cut off the network (its link down)"
        return {"kind": what, "at": at, "leader": name}
    return inject


def bring_back(layout: Layout, kind: str, name: str) -> dict[str, Any]:
    """The failed member back in the cluster; who leads now and how long rejoining took."""
    member = layout.member(name)
    if kind == "patroni_stop":
        daemons.start(layout, f"patroni-{name}",
                      ["/usr/bin/patroni", str(files.patroni_file(layout, member))], member)
    elif kind == "cut":
        netns.heal(int(name.removeprefix("pg")))
    # a member just back answers from its own stale view for a loop or two: ask after
    # Patroni's loop has run everywhere, and ask a member that stayed
    start = time.monotonic()
    time.sleep(2 * LOOP_WAIT)
    wait_healthy(layout)
    others = [m for m in layout.members if m.name != name]
    return {"new_leader": leader(Layout(**{**layout.__dict__, "members": tuple(others)})),
            "rejoined_s": round(time.monotonic() - start, 1)}


def intake_cost(layout: Layout, seconds: int, workers: int) -> dict[str, Any]:
    """bench_intake's rounds on the embedded server, then on a database of the cluster."""
    with throwaway_database(durable=True) as url:
        single = bench_intake.run(url, seconds, 16, workers, 1, 64)
    admin = layout.write_url()
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS intake_bench")
        connection.execute("CREATE DATABASE intake_bench")
    on_cluster = bench_intake.run(admin.replace("/gis?", "/intake_bench?"), seconds, 16,
                                  workers, 1, 64)
    best = {"embedded": single["best"], "cluster": on_cluster["best"]}
    return {"embedded": single, "cluster": on_cluster,
            "ratio_group_commit_on": round(best["cluster"]["64"]["requests_per_s"]
                                           / best["embedded"]["64"]["requests_per_s"], 2),
            "ratio_group_commit_off": round(best["cluster"]["0"]["requests_per_s"]
                                            / best["embedded"]["0"]["requests_per_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--reporters", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--faults", default="pg_kill,patroni_stop,cut")
    parser.add_argument("--intake-seconds", type=int, default=15,
                        help="each intake round (0: skip the intake comparison)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench/out/failover.json")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root: the members sit in network namespaces")
    out = ROOT / "bench/out/failover"
    results: dict[str, Any] = {"seconds": args.seconds, "reporters": args.reporters,
                               "workers": args.workers}
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="gis-failover-"))
    home.chmod(0o755)
    with netns.namespaces() as places:
        try:
            layout = control.up(home, print, hosts=places, client_net=netns.NETWORK)
            results["up_s"] = round(time.monotonic() - started, 1)
            if args.intake_seconds:
                results["intake"] = intake_cost(layout, args.intake_seconds, args.workers)
                print("intake", json.dumps(results["intake"]["ratio_group_commit_on"]),
                      flush=True)
            plan = bench_load.prepare(layout.write_url())
            env = {"GIS_READ_DATABASE_URL": layout.read_url()}
            for kind in args.faults.split(","):
                wait_healthy(layout)
                result = bench_load.run_scenario(kind, layout.write_url(), plan, args, out,
                                                 fault_of(layout, kind), env)
                result["after"] = bring_back(layout, kind, result["fault"]["leader"])
                print(kind, json.dumps(result["after"]), flush=True)
                results[kind] = result
        finally:
            control.down(home, print, purge=True)
            shutil.rmtree(home, ignore_errors=True)
    results["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
