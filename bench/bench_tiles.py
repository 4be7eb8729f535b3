"""Vector tiles over 1,000,000 incidents in the demo town, and what their aggregate costs.

    .venv/bin/python bench/bench_tiles.py [--incidents 1000000] [--json bench/out/tiles.json]
        [--keep DIR] [--parts points,aggregated,cached,baseline,writers]

Starts a throw-away embedded PostGIS, loads the demo town (`load_demo_town`, its 23,000
incidents included) and adds `--incidents` more made from the demo's own (`tiles_fill.sql`:
the demo's hotspots, categories and handlers, spread over the year, the newest open). Then,
with `gis-service serve` (one process) over HTTP, one request at a time:
- uncached incident tiles at z12–16: up to 40 tiles per zoom among those covering the town,
  for the wall's windows (last 7 and 30 days) and for all time (points, but bins at z12–13
  for 30 days and all time: `tiling.counted_per_bin`);
- aggregated incident tiles at z8–11 (every tile covering the town, 20 rounds), as the
  commander and a grid worker (the aggregate by area), a squad and a department (the
  aggregate by handler), and the commander with a category filter (counted from incidents);
- the baseline: every point of the town in one z8 tile with ST_AsMVT (SQL only);
- cached map-layer tiles per second with wrk (server and wrk on the same two cores);
and, in-process, what the aggregate's triggers add to intake, actions and the bulk import.

`--keep DIR` builds the database in a cluster under DIR and keeps it (stopped) afterwards; a
later run with the same DIR reuses it (migrated to the newest revision, not built again), so
a change to the tiles can be measured without the ~10-minute build. `--parts` measures only
some of the above (`writers` adds incidents to the database it measures).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import _milliseconds, served
from bench.common import demo_town_filled, throwaway_database, write_json
from bench.tile_aggregate_cost import import_cost, intake_cost, update_cost
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.auth.service import Principal
from gis_service.embedded_pg import EmbeddedCluster
from gis_service.incidents.scope import visible
from gis_service.tiles import queries
from gis_service.tiles.cells import fold
from gis_service.tiles.queries import IncidentFilters
from gis_service.tiles.service import TILE_SETTINGS
from gis_service.tiles.tiling import Tile, tile_of

FILL = text((Path(__file__).resolve().parent / "tiles_fill.sql").read_text(encoding="utf-8"))
TOWN_TILES = text("""
    SELECT x, y FROM generate_series(CAST(:x0 AS int), :x1) AS x,
                     generate_series(CAST(:y0 AS int), :y1) AS y
    WHERE EXISTS (SELECT FROM grid_version
                  WHERE level = 1 AND valid_to IS NULL
                    AND ST_Intersects(geom, ST_Transform(ST_TileEnvelope(:z, x, y), 4490)))
    ORDER BY x, y""")
LAYER_NAMES = ("grids", "districts", "zones", "projects", "stations")
PARTS = ("points", "aggregated", "cached", "baseline", "writers")


def build(url: str, n: int) -> tuple[Engine, dict[str, Any]]:
    """The demo town plus n incidents, folded and analysed; seconds per step. A database
    built before (kept with --keep) is reused as it is."""
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    took: dict[str, Any] = {}
    with factory() as session:
        stored = session.scalar(text("SELECT count(*) FROM incident"))
        if stored:
            if stored < n:
                raise SystemExit(f"the kept database holds {stored} incidents, not {n}+: "
                                 "remove its folder to build it again")
            took["reused database, incidents"] = stored
            print(took, flush=True)
            return engine, took
        took.update(demo_town_filled(session, FILL, n))
        start = time.perf_counter()
        fold(session)
        session.commit()
        took["first fold s"] = round(time.perf_counter() - start, 1)
        took["incidents"] = session.scalar(text("SELECT count(*) FROM incident"))
        for table in ("incident_cell", "incident_handler_cell"):
            took[f"{table} rows"] = session.scalar(text(f"SELECT count(*) FROM {table}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("incident", "incident_cell", "incident_handler_cell",
                      "incident_cell_delta"):  # as autovacuum would, in time
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    print(took, flush=True)
    return engine, took


def town_tiles(session: Session, z: int) -> list[tuple[int, int]]:
    """Tiles of zoom z that the town touches."""
    box = session.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                               "(SELECT ST_Extent(geom) AS e FROM grid_version WHERE level = 1 "
                               "AND valid_to IS NULL) AS t")).one()
    (x0, y0), (x1, y1) = tile_of(box[0], box[3], z), tile_of(box[2], box[1], z)
    rows = session.execute(TOWN_TILES, {"z": z, "x0": x0, "x1": x1, "y0": y0, "y1": y1})
    return [(int(x), int(y)) for x, y in rows]


def tokens(session: Session) -> dict[str, str]:
    """Bearer tokens of the demo's commander, grid worker, squad and department accounts."""
    made = {role: auth_service.issue_token(session, username=user)
            for role, user in (("commander", "commander"), ("grid worker", "gridworker"),
                               ("squad", "squad"), ("department", "department"))}
    session.commit()
    return made


def timed(client: httpx.Client, token: str, paths: list[str],
          params: dict[str, str]) -> dict[str, float]:
    """p50 / p95 / max milliseconds and tile sizes of GETting each path once."""
    samples, sizes = [], []
    for path in paths:
        start = time.perf_counter()
        response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 204), response.text
        sizes.append(len(response.content))
    return {"tiles": len(paths), "p50_ms": round(float(np.percentile(samples, 50)), 1),
            "p95_ms": round(float(np.percentile(samples, 95)), 1),
            "max_ms": round(max(samples), 1),
            "mean_kib": round(float(np.mean(sizes)) / 1024, 1),
            "max_kib": round(max(sizes) / 1024, 1)}


def windows() -> dict[str, dict[str, str]]:
    now = datetime.now(UTC)
    return {"7 days": {"since": (now - timedelta(days=7)).isoformat()},
            "30 days": {"since": (now - timedelta(days=30)).isoformat()}, "all time": {}}


def point_tiles(client: httpx.Client, session: Session,
                made: dict[str, str]) -> dict[str, Any]:
    """Uncached incident tiles at z12–16 over tiles covering the town."""
    rng = np.random.default_rng(12)
    results: dict[str, Any] = {}
    every: dict[str, list[str]] = {}
    for z in range(12, 17):
        tiles = town_tiles(session, z)
        picked = [tiles[i] for i in sorted(rng.choice(len(tiles), min(40, len(tiles)),
                                                      replace=False))]
        paths = [f"/tiles/incidents/{z}/{x}/{y}.pbf" for x, y in picked]
        every[str(z)] = paths
        for name, params in windows().items():
            results[f"z{z} {name}"] = timed(client, made["commander"], paths, params)
            print(f"z{z} {name}", results[f"z{z} {name}"], flush=True)
    pooled = [p for paths in every.values() for p in paths]
    for name in ("7 days", "30 days"):
        results[f"z12-16 {name}"] = timed(client, made["commander"], pooled, windows()[name])
        results[f"z12-16 {name}, grid worker"] = timed(client, made["grid worker"], pooled,
                                                       windows()[name])
    return results


def aggregated_tiles(client: httpx.Client, session: Session,
                     made: dict[str, str]) -> dict[str, Any]:
    """Aggregated incident tiles at z8–11 covering the town, 20 rounds each."""
    paths = [f"/tiles/incidents/{z}/{x}/{y}.pbf" for z in range(8, 12)
             for x, y in town_tiles(session, z)] * 20
    results: dict[str, Any] = {"tiles": sorted(set(paths))}
    for role, token in made.items():
        for name, params in windows().items():
            results[f"{role}, {name}"] = timed(client, token, paths, params)
            print(f"aggregated {role} {name}", results[f"{role}, {name}"], flush=True)
    category = session.scalar(text("SELECT category_code FROM incident GROUP BY 1 "
                                   "ORDER BY count(*) DESC LIMIT 1"))
    for name, params in windows().items():  # counted from the incidents
        key = f"commander, category {category}, {name}"
        results[key] = timed(client, made["commander"], paths, {**params, "category": category})
        print(f"aggregated {key}", results[key], flush=True)
    return results


def raw_baseline(engine: Engine, session: Session) -> dict[str, float]:
    """Every point of the town as a feature of one z8 tile (ST_AsMVT, SQL only)."""
    (x, y), *_ = town_tiles(session, 8)
    stmt = queries.incident_points(Tile(8, x, y), visible(Principal(0, "b", "admin", None)),
                                   IncidentFilters(), datetime.now(UTC), 0.8)
    samples, size = [], 0
    for _ in range(3):
        with engine.connect() as connection:
            connection.execute(TILE_SETTINGS)
            start = time.perf_counter()
            size = len(connection.execute(stmt).scalar() or b"")
            samples.append((time.perf_counter() - start) * 1000)
    return {"ms": round(min(samples), 1), "kib": round(size / 1024, 1)}


def layer_paths(session: Session) -> list[str]:
    """Map-layer tiles at z12–16 covering the town (every layer, up to 40 tiles a zoom)."""
    paths = []
    for z in range(12, 17):
        for x, y in town_tiles(session, z)[:40]:
            paths += [f"/tiles/{layer}/{z}/{x}/{y}.pbf" for layer in LAYER_NAMES]
    return paths


def server_cpu_s(pid: int) -> float:
    """CPU seconds the server process and its workers have used so far."""
    tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in tree)


def wrk_cached(port: int, token: str, paths: list[str], threads: int,
               connections: int, pid: int) -> dict[str, float]:
    """Requests/s, latency and the server's CPU per request (which a busy machine disturbs
    less than the rate) of cached map-layer tiles with wrk (a warm-up run first)."""
    listed = ",".join(f'"{p}"' for p in paths)
    script = Path(tempfile.mkdtemp()) / "tiles.lua"
    script.write_text(f'local p = {{{listed}}}\nlocal i = 0\n'
                      f'wrk.headers["Authorization"] = "Bearer {token}"\n'
                      'request = function()\n  i = i % #p + 1\n'
                      '  return wrk.format("GET", p[i])\nend\n')
    url = f"http://127.0.0.1:{port}"
    subprocess.run(["wrk", "-t1", "-c4", "-d5s", "-s", str(script), url], capture_output=True,
                   check=True)
    cpu = server_cpu_s(pid)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", "-d10s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True,
                         check=True).stdout
    cpu = server_cpu_s(pid) - cpu
    requests = int(out.split(" requests in ")[0].split()[-1])
    result = {"requests_per_s": float(out.split("Requests/sec:")[1].split()[0]),
              "server_cpu_ms_per_request": round(cpu * 1000 / max(requests, 1), 3),
              "non_2xx": int(out.split("Non-2xx or 3xx responses:")[1].split()[0])
              if "Non-2xx" in out else 0}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            result[f"p{parts[0].rstrip('%')}_ms"] = _milliseconds(parts[1])
    return result


def over_http(url: str, engine: Engine, parts: set[str]) -> dict[str, Any]:
    """Everything measured through `gis-service serve` (of `parts`)."""
    factory = sessionmaker(bind=engine)
    results: dict[str, Any] = {}
    with factory() as session:
        made = tokens(session)
        with served(url, 18771) as server:
            with httpx.Client(base_url="http://127.0.0.1:18771", timeout=120) as client:
                timed(client, made["commander"], layer_paths(session)[:50], {})  # warm up
                if "points" in parts:
                    results["points"] = point_tiles(client, session, made)
                if "aggregated" in parts:
                    results["aggregated"] = aggregated_tiles(client, session, made)
            if "cached" in parts:
                results["cached, 1 server process, wrk 1 thread x 8"] = wrk_cached(
                    18771, made["commander"], layer_paths(session), 1, 8, server.pid)
        if "cached" in parts:
            with served(url, 18772, workers=2) as server:
                results["cached, 2 server processes, wrk 2 threads x 16"] = wrk_cached(
                    18772, made["commander"], layer_paths(session), 2, 16, server.pid)
        if "baseline" in parts:
            results["raw z8 baseline"] = raw_baseline(engine, session)
    return results


def run(url: str, n: int, parts: set[str]) -> dict[str, Any]:
    engine, took = build(url, n)
    results: dict[str, Any] = {"build": took}
    if parts - {"writers"}:
        results.update(over_http(url, engine, parts))
    if "writers" in parts:
        factory = sessionmaker(bind=engine)
        results["intake ms (in-process, one per transaction)"] = intake_cost(factory, engine)
        print(results["intake ms (in-process, one per transaction)"], flush=True)
        results["action update ms (one row)"] = update_cost(engine)
        results["bulk import store s per 10,000 rows"] = import_cost(factory, engine)
    engine.dispose()
    return results


@contextmanager
def database(keep: Path | None) -> Iterator[str]:
    """A throw-away database, or with `keep` one in a cluster under that folder, stopped and
    kept afterwards (built there by an earlier run or now)."""
    if keep is None:
        with throwaway_database() as url:
            yield url
        return
    cluster = EmbeddedCluster(keep, durable=False)
    cluster.start()
    try:
        yield cluster.url()
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build into (or reuse) a cluster under DIR and keep it")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"what to measure, comma-separated: {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if parts - set(PARTS):
        parser.error(f"unknown parts {', '.join(sorted(parts - set(PARTS)))}")
    with database(args.keep) as url:
        results = run(url, args.incidents, parts)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
