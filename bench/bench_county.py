"""The county at scale: the demo county (七都 and its neighbours) plus `--incidents` more made
from its own, with their history, then what a county center does all day, timed.

    .venv/bin/python bench/bench_county.py [--incidents 5000000] [--towns 15]
        [--intake-seconds 20] [--json bench/out/county.json]

The fill is bench_reports.py's (copies of the demo's incidents spread over the last year,
descriptions kept, older than ten days closed with a resolution, a history row per step, a
return for 1 in 33 and an escalation for 1 in 50). With `--towns N`, the county is instead
bench/county_scale.py's synthetic one (N towns of 1+18+64 grids, imported through the
project's importers) and the incidents are spread over its level-3 grids and the last five
years, with the same statuses and history. Timed, each beside its baseline:
- the towns' league of the last full month (`reports/league.py`, cold and warm) against the
  obvious way without it: the monthly report of each town in turn;
- the incident list over HTTP as the county center and as a town center (p50/p95 of a first
  page), and a search for a two-character word (`q=`) against the same statement without the
  character-pair index (ILIKE alone);
- the wall's feed polled after a cursor, incident tiles over the county (as the wall asks for
  them, the last 30 days, and with no window), and the county
  center's wall in Chromium from navigation to usable;
- intake (`POST /api/v1/incidents` driven by wrk, bench_intake.py's script) on the county,
  last, against the same on one synthetic town with no history, measured first in the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_intake import wrk_script
from bench.bench_locate_service import random_points, serve, served
from bench.bench_reports import build, last_full_month
from bench.bench_wall import time_to_usable
from bench.common import throwaway_database, write_json, wrk_summary
from bench.county_scale import build as build_synthetic
from gis_service.auth.service import Principal, issue_token
from gis_service.grids.queries import towns
from gis_service.incidents.models import Incident
from gis_service.incidents.queries import SEARCHED, mentions
from gis_service.reports.league import league
from gis_service.reports.service import monthly_report
from gis_service.tiles.cells import fold

PORT = 18791
WORD = "积水"  # a two-character word of the demo's descriptions
READY = """() => document.querySelectorAll('path.wall-grid1').length > 0
    && document.body.dataset.wallCursor !== undefined
    && document.getElementById('league-rows').children.length > 0"""


def _ms(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(samples, 50)), 1),
            "p95_ms": round(float(np.percentile(samples, 95)), 1)}


def _county_center(session: Session) -> tuple[str, str, str]:
    """The county grid's code, a town's code, and the county center's account name."""
    county = session.scalar(text("SELECT code FROM grid_version WHERE level = 0 "
                                 "AND valid_to IS NULL ORDER BY code LIMIT 1"))
    if county is None:
        raise SystemExit("no county grid: the demo county is not loaded (data/county/)")
    town = towns(session, datetime.now(UTC))[0].code
    return county, town, "county"


def league_figures(session: Session, county: str) -> dict[str, Any]:
    """The league cold and warm, against each town's monthly report in turn."""
    month = last_full_month()
    center = Principal(0, "county", "dispatcher", county)
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        table = league(session, center, month)
        samples.append(time.perf_counter() - start)
    start = time.perf_counter()
    intake = {}
    for row in table.towns:
        report = monthly_report(session, principal=None, area=row.code, month=month)
        intake[row.code] = report["intake"]["total"]
    baseline = time.perf_counter() - start
    assert intake == {row.code: row.intake for row in table.towns}, (intake, table.towns)
    return {"month": table.month, "towns": len(table.towns),
            "intake": sum(intake.values()),
            "league cold s": round(samples[0], 2),
            "league warm s": round(statistics.median(samples[1:]), 2),
            "baseline: each town's monthly report s": round(baseline, 2),
            "ratio": round(baseline / statistics.median(samples[1:]), 1)}


def search_figures(session: Session, rounds: int = 7) -> dict[str, Any]:
    """A first page of a two-character search, with the pair index and with ILIKE alone."""
    indexed = (select(Incident.id).where(mentions(WORD))
               .order_by(Incident.due_at, Incident.id).limit(50))
    scanned = (select(Incident.id).where(SEARCHED.ilike(f"%{WORD}%"))
               .order_by(Incident.due_at, Incident.id).limit(50))
    rare = "桥头积水没过"
    found: dict[str, Any] = {"matches": session.scalar(
        select(func.count()).select_from(Incident).where(mentions(WORD)))}
    for name, stmt in (("common word, pair index", indexed), ("common word, ILIKE alone", scanned),
                       ("rare phrase, pair index", select(Incident.id).where(mentions(rare))
                        .order_by(Incident.due_at, Incident.id).limit(50)),
                       ("rare phrase, ILIKE alone",
                        select(Incident.id).where(SEARCHED.ilike(f"%{rare}%"))
                        .order_by(Incident.due_at, Incident.id).limit(50))):
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            session.execute(stmt).all()
            samples.append((time.perf_counter() - start) * 1000)
        found[name] = round(statistics.median(samples[1:]), 1)
    return found


def http_figures(origin: str, county_token: str, town_token: str,
                 rounds: int = 60) -> dict[str, Any]:
    """The list, the search, the feed and the tiles over HTTP."""
    results: dict[str, Any] = {}
    for who, token in (("county center", county_token), ("town center", town_token)):
        with httpx.Client(base_url=origin, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            for name, params in (("list, first page", {}),
                                 ("list, overdue", {"overdue": "true"}),
                                 (f"list, q={WORD}", {"q": WORD})):
                samples = []
                for _ in range(rounds):
                    start = time.perf_counter()
                    response = client.get("/api/v1/incidents", params=params)
                    samples.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text[:200]
                results[f"{who}: {name}"] = _ms(samples)
            feed = client.get("/api/v1/wall/feed").json()
            samples = []
            for _ in range(rounds):
                start = time.perf_counter()
                client.get(f"/api/v1/wall/feed?after={feed['cursor']}"
                           f"&seen_at={quote(feed['at'])}")
                samples.append((time.perf_counter() - start) * 1000)
            results[f"{who}: feed after a cursor"] = _ms(samples)
            results[f"{who}: open incidents in the feed"] = len(feed["incidents"])
    return results


def tile_figures(origin: str, token: str, session: Session, rounds: int = 200,
                 since_days: int | None = None) -> dict[str, Any]:
    """Incident tiles at z12–14 over the county's extent, as the county center: as the wall
    asks for them (`since_days=30`: its history layer's window), or with no window (every
    incident ever reported, one point each from z14)."""
    since = ({"since": (datetime.now(UTC) - timedelta(days=since_days)).isoformat()}
             if since_days else {})
    box = session.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                               "(SELECT ST_Extent(geom) AS e FROM grid_version WHERE level = 0 "
                               "AND valid_to IS NULL) AS t")).one()
    rng = np.random.default_rng(3)
    samples = []
    with httpx.Client(base_url=origin, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(rounds):
            z = int(rng.integers(12, 15))
            lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
            n = 2 ** z
            x = int((lon + 180) / 360 * n)
            y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
            start = time.perf_counter()
            response = client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf", params=since)
            samples.append((time.perf_counter() - start) * 1000)
            assert response.status_code in (200, 204), response.status_code
    return _ms(samples)


def intake_figures(origin: str, token: str, session: Session, seconds: int,
                   label: str) -> dict[str, Any]:
    """`POST /api/v1/incidents` driven by wrk (bench_intake.py's script: a new report per
    request at a random point of the county) for `seconds`, as the county center."""
    xs, ys = random_points(session, 2000, seed=5)
    folder = Path(tempfile.mkdtemp())
    try:
        script = wrk_script(folder, token, xs, ys, prefix=f"{label}-")
        out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s",
                              str(script), origin], capture_output=True, text=True,
                             check=True).stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return wrk_summary(out)


def single_town_intake(seconds: int) -> dict[str, Any]:
    """The baseline: the same intake on one synthetic town with no history, on its own
    throw-away cluster, measured in this run before the county is built."""
    with throwaway_database() as url:
        factory, _ = build_synthetic(url, 0, 1)
        with factory() as session:
            token = issue_token(session, username="county")
            session.commit()
        with served(url, PORT + 1), factory() as session:
            return intake_figures(f"http://127.0.0.1:{PORT + 1}", token, session, seconds,
                                  "one-town")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=5_000_000)
    parser.add_argument("--towns", type=int, help=(
        "a synthetic county of this many towns (bench/county_scale.py) instead of the demo "
        "county, its incidents over five years"))
    parser.add_argument("--intake-seconds", type=int, default=20, help=(
        "how long wrk posts reports, on the county and on one town beside it (0: not at all)"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"incidents asked": args.incidents,
                               "county": f"synthetic, {args.towns} towns" if args.towns
                               else "the demo county"}
    began = time.perf_counter()
    # the service's deadline scheduler stays off: the fill's history is not chained for
    # it to add to, and its rounds would be timed with everything else
    os.environ["GIS_ESCALATION_INTERVAL_SECONDS"] = "0"
    if args.intake_seconds:
        results["intake, one town (baseline)"] = single_town_intake(args.intake_seconds)
        print("intake, one town", results["intake, one town (baseline)"], flush=True)
    with throwaway_database() as url:
        if args.towns:
            factory, took = build_synthetic(url, args.incidents, args.towns)
        else:
            factory, took = build(url, args.incidents)
        results["fill"] = took
        with factory() as session:
            start = time.perf_counter()
            fold(session)
            session.commit()
            took["tile cells fold s"] = round(time.perf_counter() - start, 1)
            # as the service's fold loop does after a big fold (tiles.cells._fold_once):
            # readers scan the delta whole, and a bulk fill leaves hundreds of MB of it empty
            engine = session.get_bind()
            assert isinstance(engine, Engine)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for table in ("incident_cell_delta", "incident_cell", "incident_handler_cell"):
                    connection.execute(text(f"VACUUM ANALYZE {table}"))
            county, town, center = _county_center(session)
            results["league"] = league_figures(session, county)
            print(results["league"], flush=True)
            results["search (SQL, ms, median)"] = search_figures(session)
            print(results["search (SQL, ms, median)"], flush=True)
            town_center = session.scalar(text(
                "SELECT username FROM account WHERE role = 'dispatcher' AND scope_code = :t"),
                {"t": town})
            county_token = issue_token(session, username=center)
            town_token = issue_token(session, username=town_center or "dispatcher")
            session.commit()
        process = serve(url, PORT)
        try:
            origin = f"http://127.0.0.1:{PORT}"
            results["http"] = http_figures(origin, county_token, town_token)
            print(results["http"], flush=True)
            with factory() as session:
                for name, days in (("as the wall asks (last 30 days)", 30),
                                   ("no window (all history)", None)):
                    results[f"incident tiles, county center, {name}"] = tile_figures(
                        origin, county_token, session, since_days=days)
                    print(name, results[f"incident tiles, county center, {name}"], flush=True)
            results["Chromium: the county center's wall to usable"] = time_to_usable(
                origin, username="county", ready=READY)
            print(results["Chromium: the county center's wall to usable"], flush=True)
            if args.intake_seconds:  # last: the reports it adds would change the rest
                with factory() as session:
                    county_intake = intake_figures(origin, county_token, session,
                                                   args.intake_seconds, "county")
                results["intake, the county"] = county_intake
                baseline = results["intake, one town (baseline)"]
                results["intake ratio (county / one town)"] = round(
                    county_intake["requests_per_s"] / baseline["requests_per_s"], 2)
                print("intake, the county", county_intake, flush=True)
        finally:
            process.terminate()
            process.wait(timeout=20)
    results["run s"] = round(time.perf_counter() - began, 1)
    write_json(results, args.json)
    print(results)


if __name__ == "__main__":
    main()
