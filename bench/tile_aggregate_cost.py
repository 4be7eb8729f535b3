"""What the incident aggregate's triggers cost the writers, each measured with the triggers on
and off in alternating rounds on the same database: the online intake (in-process, one
report per transaction), a one-row action update, and the bulk import's COPY store stage."""

from __future__ import annotations

import csv
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gis_service.imports.incidents import import_incidents
from gis_service.incidents import service
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.schemas import IncidentCreate
from gis_service.locate.service import LocatorCache

TRIGGERS = ("incident_cells_insert", "incident_cells_update", "incident_cells_delete")
ROUNDS = 4


def switch_triggers(engine: Engine, on: bool) -> None:
    """Enable or disable the aggregate's triggers on incident."""
    verb = "ENABLE" if on else "DISABLE"
    with engine.begin() as connection:
        for name in TRIGGERS:
            connection.execute(text(f"ALTER TABLE incident {verb} TRIGGER {name}"))


def alternate(engine: Engine, measure: Callable[[int], float]) -> dict[str, float]:
    """The median of `measure` (a cost per item) with the triggers on and off, rounds
    alternating so that drift in the shared machine's load hits both alike."""
    costs: dict[bool, list[float]] = {True: [], False: []}
    for round_no in range(ROUNDS * 2):
        on = round_no % 2 == 0
        switch_triggers(engine, on)
        costs[on].append(measure(round_no))
    switch_triggers(engine, True)
    with_on, with_off = statistics.median(costs[True]), statistics.median(costs[False])
    added = with_on - with_off
    return {"with_triggers": round(with_on, 3), "without": round(with_off, 3),
            "added": round(added, 3), "added_percent": round(100 * added / with_off, 1)}


def demo_points(session: Session, n: int) -> list[tuple[float, float, str]]:
    """Places and categories of demo incidents."""
    rows = session.execute(text(
        "SELECT lon, lat, category_code FROM incident WHERE geom IS NOT NULL "
        "AND category_code IS NOT NULL AND source <> 'bench' ORDER BY id LIMIT :n"), {"n": n})
    return [(float(lon), float(lat), str(category)) for lon, lat, category in rows]


def intake_cost(factory: sessionmaker[Session], engine: Engine,
                per_round: int = 300) -> dict[str, float]:
    """Milliseconds per online intake (locate, route, store with history, commit)."""
    locator = LocatorCache(factory, 0, extra=load_routing_book)
    snapshot = locator.current()
    policy = service.IntakePolicy(50.0, 24.0, 0.5, IdBlocks())
    with factory() as session:
        places = demo_points(session, 2000)

    def measure(round_no: int) -> float:
        start = time.perf_counter()
        for i in range(per_round):
            lon, lat, category = places[(round_no * per_round + i) % len(places)]
            body = IncidentCreate.model_validate({
                "source": "hotline_12345", "external_id": f"cost-{round_no}-{i}",
                "category": category, "location": {"lon": lon, "lat": lat, "crs": "cgcs2000"}})
            with factory() as session:
                service.intake(session, snapshot, "bench", body, datetime.now(UTC), policy)
                session.commit()
        return (time.perf_counter() - start) * 1000 / per_round

    return alternate(engine, measure)


def update_cost(engine: Engine, per_round: int = 1000) -> dict[str, float]:
    """Milliseconds per one-row status update that moves a count (as an action does)."""
    with engine.connect() as connection:
        ids = list(connection.scalars(text(
            "SELECT id FROM incident WHERE source = 'bench' ORDER BY id LIMIT :n"),
            {"n": per_round}))

    def measure(_: int) -> float:
        start = time.perf_counter()
        with engine.connect() as connection:
            for incident_id in ids:
                connection.execute(text(
                    "UPDATE incident SET status = CASE status WHEN 'closed' THEN 'verified' "
                    "ELSE 'closed' END, version = version + 1 WHERE id = :i"), {"i": incident_id})
                connection.commit()
        return (time.perf_counter() - start) * 1000 / len(ids)

    return alternate(engine, measure)


def import_cost(factory: sessionmaker[Session], engine: Engine,
                rows: int = 20_000) -> dict[str, float]:
    """Seconds per 10,000 rows in the bulk import's store stage (COPY of incidents and history);
    each round is rolled back."""
    with factory() as session:
        places = demo_points(session, rows)
    folder = Path(tempfile.mkdtemp(prefix="tiles-cost-"))

    def measure(round_no: int) -> float:
        path = folder / f"round{round_no}.csv"
        _write_history(path, places, f"imp{round_no}")
        timings: dict[str, float] = {}
        with factory() as session:
            report = import_incidents(session, path, crs="cgcs2000", timings=timings)
            assert report.accepted, report.lines()[:5]
            session.rollback()
        return timings["store"] * 10_000 / len(places)

    return alternate(engine, measure)


def _write_history(path: Path, places: list[tuple[float, float, str]], prefix: str) -> None:
    rng = random.Random(prefix)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "external_id", "category", "reported_at", "lon", "lat",
                         "crs"])
        for i, (lon, lat, category) in enumerate(places):
            day = rng.randint(1, 28)
            writer.writerow(["hotline_12345", f"{prefix}-{i}", category,
                             f"2026-10-{day:02d}T10:00:00+08:00", lon, lat, "cgcs2000"])
