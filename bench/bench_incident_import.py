"""Bulk incident import (COPY) against the online intake() loop, in one run.

    .venv/bin/python bench/bench_incident_import.py [--rows 1000000] [--online-rows 100000]
                                                    [--json bench/out/incident_import.json]

Starts a throw-away embedded PostGIS (or uses DATABASE_URL), imports the synthetic town through
the ordinary importers (grids, one enforcement district per level-2 grid, two departments, four
categories, one grid worker per level-3 grid, every seventh off duty with a neighbour as the B
post), writes a year of synthetic hotline history as CSV (seeded: a fifth in GCJ-02, some
outside the town or without coordinates, some county tickets with their own deadline), and
measures:
  1. `gis-service import incidents` of the whole file (rows/s, with the time of each stage);
  2. the same file again (everything already stored: rows/s of the re-run);
  3. the floor: the rows stored by 1 taken in again by plain COPY with nothing computed (what
     the server alone needs for these rows, their indexes and foreign keys; rolled back);
  4. the bare floor: the same rows by COPY into copies of the tables without any index,
     constraint or trigger (the heap and its WAL alone; rolled back);
  5. `intake()` one row at a time, one transaction per row as the HTTP intake does (rows/s);
and the ratio of 1 to 5.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import write_town as write_grids
from bench.common import throwaway_database, write_json
from bench.synthetic_town import build_town, town_bounds
from gis_service import migrations
from gis_service.imports.incidents import import_incidents
from gis_service.imports.service import run_import
from gis_service.incidents.routing_book import load_routing_book
from gis_service.incidents.schemas import IncidentCreate
from gis_service.incidents.service import intake
from gis_service.locate.service import LocatorSnapshot, load_layers
from grid_layers.crs import from_storage

CATEGORIES = [["GARBAGE", "垃圾堆放", "grid", "", "", "2", "24"],
              ["BUILDING", "违章搭建", "squad", "", "JS", "4", "72"],
              ["POLLUTION", "水体污染", "department", "HB", "JS", "1", "12"],
              ["FLOOD", "防汛险情", "town", "", "", "0.5", "6"]]
HEADER = ["source", "external_id", "category", "description", "lon", "lat", "crs", "address",
          "reported_at", "parent_ticket_id", "county_due_at"]
YEAR_START = datetime(2025, 1, 1).timestamp()


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """A UTF-8 CSV file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_districts(path: Path) -> Path:
    """One enforcement district (and squad) per level-2 grid."""
    features = [{"type": "Feature", "geometry": geometry.__geo_interface__,
                 "properties": {"code": f"D{code[3:]}", "name": code,
                                "squad_code": f"Q{code[3:]}", "squad_name": code}}
                for code, geometry in build_town(seed=1, detailed=False)[2]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_workers(path: Path) -> Path:
    """A grid worker per level-3 grid; every seventh is off duty, the next grid's worker is
    their B post."""
    grids = [code for code, _ in build_town(seed=1, detailed=False)[3]]
    rows: list[list[object]] = []
    for i, grid in enumerate(grids):
        backup = f"W-{grids[(i + 1) % len(grids)]}"
        rows.append([f"W-{grid}", f"网格员{i}", "grid_worker", grid, "", "", backup,
                     "no" if i % 7 == 3 else "yes"])
    return write_csv(path, ["code", "name", "role", "grid_code", "district_code",
                            "department_code", "backup_code", "on_duty"], rows)


def load_town(session: Session, folder: Path) -> None:
    """The synthetic town through the ordinary importers."""
    files = {
        "grids": write_grids(folder / "grids.geojson", detailed=False),
        "districts": write_districts(folder / "districts.geojson"),
        "departments": write_csv(folder / "departments.csv", ["code", "name"],
                                 [["JS", "建设局"], ["HB", "环保办"]]),
        "responsibilities": write_csv(
            folder / "responsibilities.csv",
            ["category_code", "category_name", "handler", "department_code", "cooperating",
             "respond_hours", "resolve_hours"], CATEGORIES),
        "workers": write_workers(folder / "workers.csv"),
    }
    for kind, path in files.items():
        report = run_import(session, kind, path)
        assert report.accepted, report.lines()[:5]
    session.commit()


def history_rows(n: int, seed: int, prefix: str) -> list[list[object]]:
    """n rows of a year of hotline history over the town (and a margin around it)."""
    rng = np.random.default_rng(seed)
    lon, lat = _points(rng, n)
    gcj = rng.random(n) < 0.2
    lon[gcj], lat[gcj] = from_storage(lon[gcj], lat[gcj], "gcj02")
    nowhere = rng.random(n) < 0.02
    category = rng.choice([c[0] for c in CATEGORIES] + ["UNLISTED"], n,
                          p=[0.5, 0.2, 0.15, 0.1, 0.05])
    seconds = np.sort(rng.uniform(0, 365 * 86400, n))
    county = rng.random(n) < 0.1
    rows: list[list[object]] = []
    for i in range(n):
        moment = datetime.fromtimestamp(YEAR_START + seconds[i])
        due = datetime.fromtimestamp(YEAR_START + seconds[i] + 4 * 3600) if county[i] else None
        rows.append([
            "county_ticket" if county[i] else "hotline_12345", f"{prefix}{i:08d}",
            category[i], f"市民来电反映问题 {i}", "" if nowhere[i] else f"{lon[i]:.7f}",
            "" if nowhere[i] else f"{lat[i]:.7f}", "gcj02" if gcj[i] else "wgs84", "",
            moment.isoformat(timespec="seconds"), f"C{i:08d}" if county[i] else "",
            due.isoformat(timespec="seconds") if due else ""])
    return rows


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points: 97% inside the town, the rest anywhere in a margin around it."""
    town = build_town(seed=1, detailed=False)
    west, south, east, north = town_bounds(town)
    x = rng.uniform(west, east, 2 * n)
    y = rng.uniform(south, north, 2 * n)
    inside = shapely.contains_xy(town[1][0][1], x, y)
    lon, lat = x[inside][:n], y[inside][:n]
    stray = rng.random(n) < 0.03
    lon[stray] = rng.uniform(west - 0.01, east + 0.01, int(stray.sum()))
    lat[stray] = rng.uniform(south - 0.01, north + 0.01, int(stray.sum()))
    return lon, lat


def bulk(factory: sessionmaker[Session], path: Path, n: int) -> dict[str, object]:
    """Import the file once, committed; rows/s over the whole file and the stage times."""
    timings: dict[str, float] = {}
    with factory() as session:
        start = time.perf_counter()
        report = import_incidents(session, path, timings=timings)
        session.commit()
        seconds = time.perf_counter() - start
    assert report.accepted, report.lines()[:5]
    print(report.lines()[0], flush=True)
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n / seconds),
            "stages_s": {k: round(v, 2) for k, v in timings.items()},
            "counts": report.counts}


TABLES = ("incident", "incident_event")


def _reloaded(factory: sessionmaker[Session], prepare: str, into: str) -> tuple[float, int]:
    """Seconds to COPY the stored incidents and history back in (`into` formats each table's
    name into the target's) after `prepare` ran, and the history rows copied; rolled back."""
    with factory() as session, tempfile.TemporaryDirectory() as folder:
        raw = session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            for table in TABLES:
                with (Path(folder) / table).open("wb") as out, \
                        cursor.copy(f"COPY {table} TO STDOUT") as copy:
                    for block in copy:
                        out.write(block)
            cursor.execute(prepare)
            start = time.perf_counter()
            for table in TABLES:
                with (Path(folder) / table).open("rb") as source, \
                        cursor.copy(f"COPY {into.format(table)} FROM STDIN") as copy:
                    while block := source.read(1 << 20):
                        copy.write(block)
            seconds = time.perf_counter() - start
            events = cursor.execute(f"SELECT count(*) FROM {into.format(TABLES[1])}").fetchone()
        session.rollback()
    return seconds, events[0] if events else 0


def copy_floor(factory: sessionmaker[Session], n: int) -> dict[str, object]:
    """The same rows taken in by plain COPY with no work on our side: what the server alone
    needs for these rows, indexes and foreign keys (rolled back)."""
    # TRUNCATE does not fire the append-only row trigger; all of it is rolled back
    seconds, _ = _reloaded(factory, "TRUNCATE incident, incident_event CASCADE", "{}")
    return {"seconds": round(seconds, 2), "rows_per_s": round(n / seconds)}


def bare_floor(factory: sessionmaker[Session], n: int) -> dict[str, object]:
    """The same rows by COPY into copies of the two tables with no index, constraint or
    trigger: the heap and its WAL alone, below which no import on this machine can go
    (rolled back)."""
    seconds, events = _reloaded(factory, "CREATE TABLE bare_incident (LIKE incident); "
                                "CREATE TABLE bare_incident_event (LIKE incident_event)",
                                "bare_{}")
    return {"seconds": round(seconds, 2), "rows_per_s": round(n / seconds),
            "history_rows": events}


def online(factory: sessionmaker[Session], path: Path, n: int) -> dict[str, object]:
    """intake() row by row, a transaction each (as the HTTP intake), on the same rows."""
    with path.open(encoding="utf-8", newline="") as handle:
        bodies = [_body(row) for row in csv.DictReader(handle)]
    with factory() as session:
        snapshot = LocatorSnapshot(load_layers(session, datetime.now(UTC)))
        snapshot.extra = load_routing_book(session)  # as the service's LocatorCache does
    start = time.perf_counter()
    for body in bodies:
        with factory() as session:
            intake(session, snapshot, "bench", body, datetime.now(UTC))
            session.commit()
    seconds = time.perf_counter() - start
    return {"rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n / seconds)}


def _body(row: dict[str, str]) -> IncidentCreate:
    fields: dict[str, object] = {k: v for k, v in row.items()
                                 if v and k not in ("lon", "lat", "crs")}
    if row["lon"]:
        fields["location"] = {"lon": row["lon"], "lat": row["lat"], "crs": row["crs"]}
    return IncidentCreate.model_validate(fields)


def run(url: str, n: int, n_online: int) -> dict[str, object]:
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    folder = Path(tempfile.mkdtemp())
    try:
        with factory() as session:
            load_town(session, folder)
        path = write_csv(folder / "history.csv", HEADER, history_rows(n, seed=7, prefix="H"))
        results: dict[str, object] = {"cpus": os.cpu_count(), "file_mb": round(
            path.stat().st_size / 1e6, 1)}
        results["bulk"] = bulk(factory, path, n)
        print("bulk", results["bulk"], flush=True)
        results["rerun"] = bulk(factory, path, n)
        print("rerun", results["rerun"], flush=True)
        results["copy_floor"] = copy_floor(factory, n)
        print("copy_floor", results["copy_floor"], flush=True)
        results["bare_floor"] = bare_floor(factory, n)
        print("bare_floor", results["bare_floor"], flush=True)
        with factory() as session:
            stored = session.scalar(text("SELECT count(*) FROM incident"))
            assert stored == n, (stored, n)
        online_path = write_csv(folder / "online.csv", HEADER,
                                history_rows(n_online, seed=8, prefix="L"))
        results["online"] = online(factory, online_path, n_online)
        print("online", results["online"], flush=True)
        results["ratio"] = round(results["bulk"]["rows_per_s"]  # type: ignore[index]
                                 / results["online"]["rows_per_s"], 1)  # type: ignore[index]
        return results
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--online-rows", type=int, default=100_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args.rows, args.online_rows)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
