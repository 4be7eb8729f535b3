"""The live wall with a year of history: its data calls, and how soon it is usable in Chromium.

    .venv/bin/python bench/bench_wall.py [--incidents 1000000] [--rounds 20] [--json FILE]

Starts a throw-away embedded PostGIS and loads the demo town (a year: 23,000 incidents, 392
open); measures; then adds `--incidents` more (bench/tiles_fill.sql, as bench_tiles.py does:
the last ten days mostly open, so tens of thousands open — a stress case far beyond a town's
hundreds) and measures again. Each time, with `gis-service serve` (one process), as the
demo commander:
- the wall's calls over HTTP, `--rounds` times each: the page, the feed from scratch (every
  open incident), the feed after a cursor (what a poll every 3 s costs), KPIs, heat 7 / 30
  days, a day's replay, a grid card — p50 / p95 ms and size;
- the baseline for polling: sending every open incident on every poll (the feed from
  scratch) against sending what changed (the ratio of the two);
- in Debian's Chromium: from navigation to a usable wall (grids drawn, the live layer drawn
  and the KPI panel filled), median of 5 page loads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from playwright.sync_api import sync_playwright
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import serve
from bench.bench_tiles import FILL
from bench.common import DEMO_INCIDENTS, throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.demo import DEMO_PASSWORD, load_demo_town
from gis_service.tiles.cells import fold

PORT = 18781
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
READY = """() => document.querySelectorAll('path.wall-grid3').length > 0
    && document.body.dataset.wallCursor !== undefined
    && document.getElementById('kpi-open').textContent !== '–'"""


def load_demo(engine: Engine) -> None:
    with sessionmaker(bind=engine)() as session:
        for line in load_demo_town(session):
            if "rejected" in line:
                print(line, flush=True)


def fill(engine: Engine, n: int) -> None:
    with sessionmaker(bind=engine)() as session:
        session.execute(FILL, {"n": n, "copies": n // DEMO_INCIDENTS + 2})
        session.commit()
        fold(session)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE incident"))


def timed(client: httpx.Client, path: str, rounds: int) -> dict[str, Any]:
    samples, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        size = len(response.content)
    return {"p50_ms": round(float(np.percentile(samples, 50)), 1),
            "p95_ms": round(float(np.percentile(samples, 95)), 1), "kib": round(size / 1024, 1)}


def calls(client: httpx.Client, rounds: int) -> dict[str, Any]:
    """The wall's data calls, timed."""
    feed = client.get("/api/v1/wall/feed").json()
    cursor, seen_at = feed["cursor"], feed["at"]
    grid = client.get("/api/v1/grids", params={"level": 3}).json()["features"][0]
    code = grid["properties"]["code"]
    results: dict[str, Any] = {"open incidents": len(feed["incidents"])}
    for name, path in (("page /", "/"), ("feed from scratch", "/api/v1/wall/feed"),
                       ("feed after a cursor",
                        f"/api/v1/wall/feed?after={cursor}&seen_at={quote(seen_at)}"),
                       ("kpi", "/api/v1/wall/kpi"), ("heat 7 days", "/api/v1/wall/heat?days=7"),
                       ("heat 30 days", "/api/v1/wall/heat?days=30"),
                       ("replay today", "/api/v1/wall/replay"),
                       (f"grid card {code}", f"/api/v1/wall/grids/{code}")):
        results[name] = timed(client, path, rounds)
        print(name, results[name], flush=True)
    scratch, after = results["feed from scratch"], results["feed after a cursor"]
    results["polling: from scratch / after a cursor (p50)"] = round(
        scratch["p50_ms"] / max(after["p50_ms"], 0.01), 1)
    return results


def time_to_usable(origin: str, loads: int = 5, username: str = "commander",
                   ready: str = READY) -> dict[str, Any]:
    """Milliseconds from navigation until the wall is usable (`ready` holds), in Chromium,
    signed in as `username`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
            page.goto(f"{origin}/login?next=/")
            page.fill("#username", username)
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{origin}/")
            samples = []
            for _ in range(loads):
                start = time.perf_counter()
                page.goto(f"{origin}/")
                page.wait_for_function(ready, timeout=120_000, polling=50)
                samples.append((time.perf_counter() - start) * 1000)
            drawn = page.evaluate("Object.keys(window.wallState.markers).length")
        finally:
            browser.close()
    return {"median_ms": round(statistics.median(samples)), "max_ms": round(max(samples)),
            "live markers": drawn}


def measure(url: str, engine: Engine, rounds: int) -> dict[str, Any]:
    with sessionmaker(bind=engine)() as session:
        token = auth_service.issue_token(session, username="commander")
        session.commit()
        incidents = session.scalar(text("SELECT count(*) FROM incident"))
    process = serve(url, PORT)
    try:
        origin = f"http://127.0.0.1:{PORT}"
        with httpx.Client(base_url=origin, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            results: dict[str, Any] = {"incidents": incidents, **calls(client, rounds)}
        results["Chromium: navigation to usable wall"] = time_to_usable(origin)
        print(results["Chromium: navigation to usable wall"], flush=True)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with throwaway_database() as url:
        engine = migrations.migrated_engine(url)
        load_demo(engine)
        results["demo town (a year, 23,000)"] = measure(url, engine, args.rounds)
        if args.incidents:
            fill(engine, args.incidents)
            results[f"demo town + {args.incidents:,}"] = measure(url, engine, args.rounds)
        engine.dispose()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
