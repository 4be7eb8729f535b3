"""What every benchmark does the same way: a throw-away database, the demo town with a year's
worth of incidents more, and a JSON result file."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from gis_service.demo import load_demo_town
from gis_service.embedded_pg import temporary_cluster

DEMO_INCIDENTS = 23_000  # the demo town's own, which a fill copies


@contextmanager
def throwaway_database(durable: bool = False) -> Iterator[str]:
    """DATABASE_URL when set, else a private embedded PostGIS removed afterwards."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    with temporary_cluster("gis-bench-", durable=durable) as url:
        yield url


def write_json(results: dict[str, Any], path: Path | None) -> None:
    """Write the results where --json says (nothing when it was not given)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False))


def demo_town_filled(session: Session, fill: TextClause, n: int) -> dict[str, float]:
    """Load the demo town, then run `fill` (parameters `n` and `copies`: how many times over
    it copies the demo's incidents) for n incidents more, committed; seconds of each step."""
    took: dict[str, float] = {}
    start = time.perf_counter()
    for line in load_demo_town(session):
        if "rejected" in line:
            print(line, flush=True)
    took["demo town s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    session.execute(fill, {"n": n, "copies": n // DEMO_INCIDENTS + 2})
    session.commit()
    took["incident fill s (one INSERT)"] = round(time.perf_counter() - start, 1)
    return took


def wrk_summary(out: str) -> dict[str, float]:
    """Requests/s, non-2xx answers and p50/p90/p99 (ms) from the output of `wrk --latency`."""
    summary = {"requests_per_s": float(out.split("Requests/sec:")[1].split()[0]),
               "non_2xx": float(out.split("Non-2xx or 3xx responses:")[1].split()[0])
               if "Non-2xx" in out else 0.0}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            summary[f"p{parts[0].rstrip('%')}_ms"] = _milliseconds(parts[1])
    return summary


def _milliseconds(value: str) -> float:
    """wrk's '812.00us', '3.51ms' or '1.02s' in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    return float(value)
