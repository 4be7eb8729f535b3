"""POST /api/v1/locate in its compact form (`fields=`) against the full answer and the PostGIS
join that fetches the same three codes, in one run, on a town with simple boundaries and on
one with detailed ones.

    .venv/bin/python bench/bench_locate_fields.py [--points 200000] [--rounds 3]
                                                  [--json bench/out/locate_fields.json]

Starts a throw-away embedded PostGIS, imports the synthetic town (simple, then detailed
boundaries) through the ordinary grid importer, serves it with one process, and times end to
end (encode, send, answer, receive, decode) the best of `--rounds`:
  - the full answer (`{"results": [...]}`, the contract's nested object per point);
  - `fields=town,grid2,grid3`, JSON (one array per field) and CSV;
  - the PostGIS GiST `ST_Covers` join of the same points with levels 1–3, rows fetched.
Every compact answer is checked against the full one.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import (
    load_points,
    postgis_join,
    random_points,
    served,
    write_town,
)
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import

PORT = 18766
FIELDS = "town,grid2,grid3"


def best(rounds: int, call: Callable[[], object]) -> tuple[float, object]:
    """The fastest of `rounds` calls (after one warm-up) and its answer."""
    call()
    times, answer = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - start)
    return min(times), answer


def measure(client: httpx.Client, headers: dict[str, str], session: Session,
            points: list[list[float]], rounds: int) -> dict[str, float]:
    """Seconds of each form and of the join, and the ratios."""
    target = f"http://127.0.0.1:{PORT}/api/v1/locate"
    body = orjson.dumps({"points": points})

    def full() -> object:
        response = client.post(target, content=body, headers=headers)
        return orjson.loads(response.content)["results"]

    def columns() -> object:
        response = client.post(target, content=body, headers=headers,
                               params={"fields": FIELDS})
        return orjson.loads(response.content)

    def as_csv() -> object:
        response = client.post(target, content=body, params={"fields": FIELDS},
                               headers={**headers, "Accept": "text/csv"})
        return response.text.splitlines()

    full_s, results = best(rounds, full)
    columns_s, table = best(rounds, columns)
    csv_s, lines = best(rounds, as_csv)
    assert isinstance(results, list) and isinstance(table, dict) and isinstance(lines, list)
    for field in FIELDS.split(","):
        assert table[field] == [r[field]["code"] if r[field] else None for r in results]
    assert len(lines) == len(points) + 1
    join_s = min(postgis_join(session, len(points))[0] for _ in range(rounds))
    n = len(points)
    return {"full_s": round(full_s, 3), "fields_json_s": round(columns_s, 3),
            "fields_csv_s": round(csv_s, 3), "postgis_join_fetch_s": round(join_s, 3),
            "full_points_per_s": round(n / full_s),
            "fields_json_points_per_s": round(n / columns_s),
            "fields_csv_points_per_s": round(n / csv_s),
            "postgis_points_per_s": round(n / join_s),
            "ratio_fields_json_vs_join": round(join_s / columns_s, 2),
            "ratio_fields_csv_vs_join": round(join_s / csv_s, 2),
            "ratio_full_vs_join": round(join_s / full_s, 2)}


def run(url: str, n: int, rounds: int) -> dict[str, object]:
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    results: dict[str, object] = {"points": n, "fields": FIELDS}
    folder = Path(tempfile.mkdtemp())
    with factory() as session:
        auth_service.add_account(session, username="bench", role="admin")
        token = auth_service.issue_token(session, username="bench")
        session.commit()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with served(url, PORT), httpx.Client(timeout=300) as client:
            for variant in ("simple", "detailed"):
                path = write_town(folder / f"{variant}.geojson", variant == "detailed")
                report = run_import(session, "grids", path)
                assert report.accepted, report.lines()[:5]
                session.commit()
                vertices = session.scalar(text(
                    "SELECT avg(ST_NPoints(geom)) FROM grid_version "
                    "WHERE valid_to IS NULL AND level = 3"))
                x, y = random_points(session, n, seed=3)
                load_points(session, x, y)
                time.sleep(2)  # the service's locator notices the import (1 s refresh)
                points = np.column_stack([x, y]).tolist()
                figures = measure(client, headers, session, points, rounds)
                results[variant] = {"level3_vertices_avg": round(float(vertices)), **figures}
                print(variant, results[variant], flush=True)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args.points, args.rounds)
    print(json.dumps(results, indent=2))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
