"""The outbox's cost to the intake's write path, in process: the same batches of new reports
taken in (`incidents.service.intake_many`, one commit per batch as the group-commit writer
does) with no subscription and with three that select every incident event, alternating on
one database.

    .venv/bin/python bench/bench_outbox_write.py [--batches 40] [--batch 64] [--rounds 3]
                                                 [--json bench/out/outbox_write.json]

No HTTP and no delivery worker: what is measured is the CPU one stored report costs this
process (building bodies) and its PostgreSQL backend (the message rows; the deliveries are
written by the worker's fan-out, not by the intake), and the wall time per batch, on a
throw-away durable PostGIS with bench_intake's synthetic town. After each round with
subscriptions, the round's messages are fanned out as the delivery worker does
(`delivery.fan_out`, steps until none is left), measured apart: the work moved off the
write path, reported per report and not counted in the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import prepare
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.events.delivery import fan_out
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.schemas import IncidentCreate, Location
from gis_service.incidents.service import IntakePolicy, Report, intake_many
from gis_service.locate.service import LocatorCache

POLICY = IntakePolicy(duplicate_radius_m=50, duplicate_window_hours=24,
                      geocode_min_confidence=0.5, ids=IdBlocks(), video_fold_minutes=30)
CATEGORIES = ("GARBAGE", "BUILDING", "POLLUTION")
SUBSCRIPTIONS = 3
EVENTS = ["incident.created", "incident.updated", "incident.closed", "incident.escalated",
          "enforcement.result"]


def subscribe(engine: Engine, n: int) -> None:
    """Exactly `n` enabled subscriptions selecting every incident event (none when 0)."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM webhook_subscription"))
        for i in range(n):
            connection.execute(text(
                "INSERT INTO webhook_subscription (url, description, events, secret, enabled, "
                "created_by, created_at) VALUES (:url, '', :events, :secret, true, 'bench', "
                "now())"), {"url": f"http://127.0.0.1:9/{i}", "events": EVENTS,
                            "secret": "whsec_" + "A" * 32})


def backend_cpu(session: Session) -> float:
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def one_round(factory: sessionmaker[Session], snapshot: Any, xs: Any, ys: Any,
              batches: int, batch: int, tag: str) -> dict[str, float]:
    with factory() as session:
        messages0 = session.execute(text("SELECT count(*) FROM webhook_message")).scalar_one()
        session.commit()
        pg0, me0, t0 = backend_cpu(session), time.process_time(), time.perf_counter()
        n = 0
        for b in range(batches):
            reports = []
            for k in range(batch):
                i = (b * batch + k) % len(xs)
                body = IncidentCreate(
                    source="hotline_12345", external_id=f"{tag}-{b}-{k}",
                    category=CATEGORIES[k % 3], description="bench",
                    location=Location(lon=float(xs[i]), lat=float(ys[i])))
                reports.append(Report("bench", body, datetime.now(UTC)))
            outcomes = intake_many(session, snapshot, reports, POLICY)
            session.commit()
            n += sum(1 for o in outcomes if not isinstance(o, Exception) and o.created)
        wall, me = time.perf_counter() - t0, time.process_time() - me0
        pg = backend_cpu(session) - pg0
        messages = session.execute(text("SELECT count(*) FROM webhook_message")).scalar_one()
        session.commit()
        sent0 = session.execute(text("SELECT count(*) FROM webhook_delivery")).scalar_one()
        session.commit()
        # the worker's side, apart: the round's messages fanned out into deliveries
        pg0, me0, t0 = backend_cpu(session), time.process_time(), time.perf_counter()
        while fan_out(session, datetime.now(UTC)):
            pass
        fan_wall, fan_me = time.perf_counter() - t0, time.process_time() - me0
        fan_pg = backend_cpu(session) - pg0
        sent = session.execute(text("SELECT count(*) FROM webhook_delivery")).scalar_one()
    return {"stored": n, "messages": messages - messages0, "deliveries": sent - sent0,
            "wall_ms_per_report": round(1000 * wall / n, 3),
            "service_cpu_ms_per_report": round(1000 * me / n, 3),
            "postgres_cpu_ms_per_report": round(1000 * pg / n, 3),
            "fanout_wall_ms_per_report": round(1000 * fan_wall / n, 3),
            "fanout_cpu_ms_per_report": round(1000 * (fan_me + fan_pg) / n, 3)}


def run(url: str, batches: int, batch: int, rounds: int) -> dict[str, Any]:
    engine = migrations.migrated_engine(url)
    folder = Path(tempfile.mkdtemp())
    _token, xs, ys = prepare(engine, folder)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    # with the routing book beside it, as the service's snapshots are
    snapshot: Any = LocatorCache(factory, 0, extra=load_routing_book).current()
    subscribe(engine, 0)
    one_round(factory, snapshot, xs, ys, 5, batch, "warm")  # caches, plans, id blocks
    results: list[dict[str, Any]] = []
    for r in range(rounds):
        for n in (0, SUBSCRIPTIONS):
            subscribe(engine, n)
            measured = one_round(factory, snapshot, xs, ys, batches, batch, f"r{r}s{n}")
            results.append({"round": r + 1, "subscriptions": n, **measured})
            print(results[-1], flush=True)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)

    def total(n: int) -> float:
        rows = [x for x in results if x["subscriptions"] == n]
        return min(x["service_cpu_ms_per_report"] + x["postgres_cpu_ms_per_report"]
                   for x in rows)

    def wall(n: int) -> float:
        return min(x["wall_ms_per_report"] for x in results if x["subscriptions"] == n)

    return {"batch": batch, "batches": batches, "rounds": results,
            "cpu_ratio": round(total(SUBSCRIPTIONS) / total(0), 3),
            "wall_ratio": round(wall(SUBSCRIPTIONS) / wall(0), 3),
            "fanout_cpu_ms_per_report": min(x["fanout_cpu_ms_per_report"] for x in results
                                            if x["subscriptions"] == SUBSCRIPTIONS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database(durable=True) as url:
        results = run(url, args.batches, args.batch, args.rounds)
    print(f"CPU per report (service + PostgreSQL, best round) with {SUBSCRIPTIONS} "
          f"subscriptions against none: {results['cpu_ratio']}×; wall time "
          f"{results['wall_ratio']}×; the worker's fan-out, apart: "
          f"{results['fanout_cpu_ms_per_report']} ms CPU per report")
    write_json(results, args.json)


if __name__ == "__main__":
    main()
