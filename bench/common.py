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
