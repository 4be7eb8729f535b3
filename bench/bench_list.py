"""Listing incidents with filters over 1,000,000 stored incidents, over HTTP.

    .venv/bin/python bench/bench_list.py [--incidents 1000000] [--json bench/out/list.json]

Fills a throw-away embedded PostGIS with a year of synthetic incidents (SQL generate_series:
this benchmark is about reading), runs `gis-service serve`, and times `GET /api/v1/incidents`
for common filter sets, 60 requests each, as a commander (everything) and as a grid worker
(one grid). Baseline: the same deep page fetched with OFFSET instead of the keyset cursor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import serve
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service

FILL = text("""
INSERT INTO incident (source, external_id, category_code, description, lon, lat, geom,
    reported_at, status, priority, town_code, grid2_code, grid3_code, district_code,
    assignee_type, assignee_code, due_at, history_head, version, created_at, updated_at)
SELECT (ARRAY['hotline_12345','grid_patrol','video','county_ticket'])[1 + i % 4], 'L' || i,
       'C' || lpad(c::text, 2, '0'), 'bench', x, y, ST_SetSRID(ST_MakePoint(x, y), 4490),
       t, (ARRAY['dispatched','accepted','in_progress','resolved','closed','closed','closed',
                 'closed'])[1 + st], i % 3, 'T1', 'T1-' || lpad(g2::text, 2, '0'),
       'T1-' || lpad(g2::text, 2, '0') || '-' || lpad(g3::text, 2, '0'),
       'D' || (1 + i % 3), 'grid_worker', 'W' || (i % 64), t + interval '24 hours', '', 1, t, t
FROM (SELECT i, 120.40 + random() * 0.1 AS x, 30.90 + random() * 0.1 AS y,
             now() - interval '365 days' * random() AS t,
             floor(random() * 20)::int AS c, floor(random() * 8)::int AS st,
             1 + floor(random() * 18)::int AS g2, 1 + floor(random() * 4)::int AS g3
      FROM generate_series(1, :n) AS i) AS s
""")


def fill(url: str, n: int) -> str:
    """Store n incidents; returns a commander token and a grid worker token, comma-joined."""
    engine = migrations.migrated_engine(url)
    with sessionmaker(bind=engine)() as session:
        start = time.perf_counter()
        session.execute(FILL, {"n": n})
        session.execute(text("ANALYZE incident"))
        session.commit()
        print(f"filled {n} incidents in {time.perf_counter() - start:.0f} s", flush=True)
        auth_service.add_account(session, username="chief", role="commander")
        worker = auth_service.add_account(session, username="worker", role="grid_worker",
                                          scope_code="T1-05-02")
        worker.worker_code = "W5"  # the phone page asks for this post's open tasks
        tokens = [auth_service.issue_token(session, username=u) for u in ("chief", "worker")]
        session.commit()
    engine.dispose()
    return ",".join(tokens)


def timed(client: httpx.Client, params: dict[str, str], token: str,
          repeat: int = 60) -> dict[str, float]:
    """p50 / p95 milliseconds of one listing."""
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get("/api/v1/incidents", params=params, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return {"p50_ms": round(float(np.percentile(samples, 50)), 1),
            "p95_ms": round(float(np.percentile(samples, 95)), 1),
            "items": len(response.json()["items"])}


def deep_page(client: httpx.Client, token: str, pages: int) -> str:
    """The cursor of page `pages` (50 per page), walked with keyset paging."""
    cursor = ""
    for _ in range(pages):
        body = client.get("/api/v1/incidents", params={"cursor": cursor} if cursor else {},
                          headers={"Authorization": f"Bearer {token}"}).json()
        cursor = body["next_cursor"]
    return cursor


def offset_baseline(url: str, offset: int) -> float:
    """Milliseconds of the same page by OFFSET (what a naive list does)."""
    engine = create_engine(url)
    samples = []
    with engine.connect() as connection:
        for _ in range(20):
            start = time.perf_counter()
            connection.execute(text("SELECT * FROM incident ORDER BY due_at, id LIMIT 51 "
                                    "OFFSET :o"), {"o": offset}).all()
            samples.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    return round(float(np.percentile(samples, 95)), 1)


def run(url: str, n: int) -> dict[str, object]:
    chief, worker = fill(url, n).split(",")
    port = 18767
    process = serve(url, port)
    results: dict[str, object] = {"incidents": n}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            cases = {
                "no filter": ({}, chief), "status=dispatched": ({"status": "dispatched"}, chief),
                "grid=T1-07": ({"grid": "T1-07"}, chief), "district=D2": ({"district": "D2"},
                                                                           chief),
                "category=C05": ({"category": "C05"}, chief),
                "overdue=true": ({"overdue": "true"}, chief),
                "bbox 1 km²": ({"bbox": "120.45,30.95,120.46,30.96"}, chief),
                "status+grid+category": ({"status": "accepted", "grid": "T1-03",
                                          "category": "C07"}, chief),
                "grid worker (own grid)": ({}, worker),
                "grid worker's open tasks (assignee=me)": (
                    {"assignee": "me", "status": "dispatched,accepted,in_progress"}, worker),
                "commander's overdue (after escalation too)": ({"overdue": "true",
                                                                 "limit": "200"}, chief),
            }
            for name, (params, token) in cases.items():
                results[name] = timed(client, params, token)
                print(name, results[name], flush=True)
            cursor = deep_page(client, chief, 200)
            results["page 201 by cursor"] = timed(client, {"cursor": cursor}, chief)
        results["page 201 by OFFSET (baseline, SQL only) p95_ms"] = offset_baseline(url, 10_000)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args.incidents)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
