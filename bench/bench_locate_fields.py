"""POST /api/v1/locate in its compact form (`fields=town,grid2,grid3`) against the PostGIS join
that fetches the same three codes, in one run, on the demo town (simple boundaries) and on the
same town with detailed ones.

    .venv/bin/python bench/bench_locate_fields.py [--points 200000] [--rounds 3]
        [--segment 2e-5] [--pieces 256] [--sample 2000] [--json bench/out/locate_fields.json]

Starts a throw-away embedded PostGIS (or uses DATABASE_URL), imports the demo town's grids,
districts and zones (`data/demo/`) through the ordinary importers and serves them with one
process. Two boundary sets, in turn:
  - simple: the demo town as built (level-3 grids of ~10 vertices, the town ~180);
  - detailed: the same grids densified in PostGIS with `ST_Segmentize(geom, --segment)` (a
    vertex every 2e-5 degrees, ~2 m, by default), written out and imported again as a new
    version (the boundaries keep their shape, every edge test gets the cost of the detail).
Then, for N points drawn uniformly over the town's box (some fall outside it), the best of
`--rounds` after one warm-up, each end to end from the same numpy arrays of lon/lat:
  - `fields=town,grid2,grid3`, JSON: encode the request, send, answer, receive, decode;
  - the same as CSV (`Accept: text/csv`; received and split into lines);
  - the full nested answer (the default), for comparison;
  - the PostGIS join: the points sent as two float8 arrays (text literals), unnested and joined
    to the current grids of levels 1-3 with `ST_Covers` through a GiST index, the (point,
    level, code) rows fetched with psycopg; and the same join counting only (no rows sent
    back). Two forms of the grids:
      - `grid_version` itself (its GiST index on `geom`). The planner, not knowing how many
        points the arrays hold, scans the grids and tests every point against each; the
        index plan (points outer, an index probe per point) is ~2x faster, so it is forced
        (`enable_seqscan = off`). On detailed boundaries a point costs it ~20 ms (the polygon
        changes at every row, so what PostGIS caches of the last polygon it tested is never
        re-used: each ~40 kB polygon is read and prepared afresh), so there it is timed on
        `--sample` points once and its rate scaled;
      - the same grids cut with `ST_Subdivide(geom, --pieces)` into a GiST-indexed table
        (as mapit does), the form that keeps each test small on detailed boundaries.
    JIT is off for the joins (it adds ~0.3 s of compiling to each and nothing back here).
The ratios are against the faster of the two.
Every compact answer is checked against the join's codes (the smallest code where a point lies
on a shared edge) and against the full answer.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_locate_service import served
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.imports.service import run_import

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
PORT = 18766
FIELDS = ("town", "grid2", "grid3")
LEVELS = {1: "town", 2: "grid2", 3: "grid3"}

JOIN = """
    SELECT p.i, g.level, g.code
    FROM unnest(%(x)s::float8[], %(y)s::float8[]) WITH ORDINALITY AS p(x, y, i)
    JOIN {grids} g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4490))
    WHERE g.valid_to IS NULL AND g.level BETWEEN 1 AND 3"""
COUNT = "SELECT count(*) FROM ({join}) j"
PIECES = text("""
    DROP TABLE IF EXISTS bench_grid_piece;
    CREATE UNLOGGED TABLE bench_grid_piece AS
        SELECT code, level, valid_to, ST_Subdivide(geom, :vertices) AS geom
        FROM grid_version WHERE valid_to IS NULL AND level BETWEEN 1 AND 3;
    CREATE INDEX ON bench_grid_piece USING gist (geom);
    ANALYZE bench_grid_piece""")

DENSIFIED = text("""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
        json_build_object('type', 'Feature',
                          'geometry', ST_AsGeoJSON(ST_Segmentize(geom, :segment), 9)::json,
                          'properties', json_build_object(
                              'code', code, 'name', name, 'kind', kind, 'level', level,
                              'parent_code', parent_code, 'households', households,
                              'population', population))), '[]'::json))
    FROM grid_version WHERE valid_to IS NULL""")


def best(rounds: int, call: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `rounds` calls (after one warm-up) and its answer."""
    call()
    times, answer = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - start)
    return min(times), answer


def import_demo(session: Session) -> None:
    """The demo town's grids, districts and zones, through the ordinary importers."""
    for kind in ("grids", "districts", "zones"):
        report = run_import(session, kind, DEMO / f"{kind}.geojson")
        assert report.accepted, report.lines()[:5]
        session.commit()


def densify(session: Session, folder: Path, segment: float) -> None:
    """The current grids again, a vertex every `segment` degrees, imported as a new version."""
    path = folder / "detailed.geojson"
    path.write_text(json.dumps(session.scalar(DENSIFIED, {"segment": segment})))
    report = run_import(session, "grids", path)
    assert report.accepted, report.lines()[:5]
    session.commit()


def boundary_figures(session: Session) -> dict[str, int]:
    """Average vertices per current grid of each level."""
    rows = session.execute(text(
        "SELECT level, avg(ST_NPoints(geom)) FROM grid_version "
        "WHERE valid_to IS NULL AND level BETWEEN 1 AND 3 GROUP BY level ORDER BY level")).all()
    return {f"level{level}_vertices_avg": round(float(avg)) for level, avg in rows}


def random_points(session: Session, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """N uniform points over the town's box."""
    box = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
        "FROM grid_version WHERE valid_to IS NULL AND level = 1) t")).one()
    rng = np.random.default_rng(seed)
    return rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)


def float_array(values: np.ndarray) -> str:
    """A float8[] literal (psycopg's list adapter takes ~1 s for 200,000 floats)."""
    return "{" + orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode() + "}"


class Join:
    """The PostGIS join on one form of the grids, on its own connection (the index plan
    forced, JIT off)."""

    def __init__(self, conninfo: str, grids: str) -> None:
        self.sql = JOIN.format(grids=grids)
        self.connection = psycopg.connect(conninfo, autocommit=True)
        self.connection.execute("SET enable_seqscan = off")
        self.connection.execute("SET jit = off")

    def fetch(self, x: np.ndarray, y: np.ndarray) -> dict[str, list[str | None]]:
        """The rows fetched, as the three codes per point (smallest on a shared edge)."""
        rows = self.connection.execute(
            self.sql, {"x": float_array(x), "y": float_array(y)}).fetchall()
        out: dict[str, list[str | None]] = {field: [None] * len(x) for field in FIELDS}
        for i, level, code in rows:
            column = out[LEVELS[level]]
            known = column[i - 1]
            if known is None or code < known:
                column[i - 1] = code
        return out

    def count(self, x: np.ndarray, y: np.ndarray) -> int:
        """The rows counted in the database (nothing fetched)."""
        row = self.connection.execute(COUNT.format(join=self.sql),
                                      {"x": float_array(x), "y": float_array(y)}).fetchone()
        assert row is not None
        return int(row[0])

    def plan(self, x: np.ndarray, y: np.ndarray) -> str:
        """The plan's nodes in one line (to show the GiST index is what it uses)."""
        rows = self.connection.execute("EXPLAIN " + self.sql, {
            "x": float_array(x[:1000]), "y": float_array(y[:1000])}).fetchall()
        return " / ".join(row[0].strip().removeprefix("-> ").split("  (")[0].strip()
                          for row in rows if "Scan" in row[0] or "Loop" in row[0])

    def close(self) -> None:
        self.connection.close()


def measure_http(client: httpx.Client, headers: dict[str, str], x: np.ndarray, y: np.ndarray,
                 rounds: int) -> dict[str, tuple[float, Any]]:
    """Seconds (best of `rounds`) and answer of each form of POST /locate."""
    target = f"http://127.0.0.1:{PORT}/api/v1/locate"
    coords = np.column_stack([x, y])

    def request(**extra: Any) -> httpx.Response:
        body = orjson.dumps({"points": coords}, option=orjson.OPT_SERIALIZE_NUMPY)
        response = client.post(target, content=body, **extra)
        response.raise_for_status()
        return response

    def columns() -> Any:
        return orjson.loads(request(headers=headers, params={"fields": ",".join(FIELDS)})
                            .content)

    def as_csv() -> Any:
        return request(headers={**headers, "Accept": "text/csv"},
                       params={"fields": ",".join(FIELDS)}).text.splitlines()

    def full() -> Any:
        return orjson.loads(request(headers=headers).content)["results"]

    return {"fields_json": best(rounds, columns), "fields_csv": best(rounds, as_csv),
            "full": best(rounds, full)}


def measure_join(join: Join, x: np.ndarray, y: np.ndarray, rounds: int,
                 sample: int) -> dict[str, Any]:
    """Points/s of the join fetching and counting, and its answer for the first `points`; a
    join whose round would take over a minute is timed once on the first `sample` points."""
    start = time.perf_counter()
    answer = join.fetch(x[:sample], y[:sample])
    seconds = time.perf_counter() - start
    if seconds * len(x) / sample > 60:
        return {"points": sample, "fetch_s": round(seconds, 3),
                "fetch_points_per_s": round(sample / seconds), "answer": answer,
                "plan": join.plan(x, y)}
    fetch_s, answer = best(rounds, lambda: join.fetch(x, y))
    count_s, _ = best(rounds, lambda: join.count(x, y))
    return {"points": len(x), "fetch_s": round(fetch_s, 3),
            "fetch_points_per_s": round(len(x) / fetch_s), "count_s": round(count_s, 3),
            "count_points_per_s": round(len(x) / count_s), "answer": answer,
            "plan": join.plan(x, y)}


def measure(client: httpx.Client, headers: dict[str, str], session: Session, conninfo: str,
            x: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """Every form and both joins on the current boundaries, checked, with the ratios."""
    for statement in PIECES.text.split(";"):
        session.execute(text(statement), {"vertices": args.pieces})
    session.commit()
    timed = measure_http(client, headers, x, y, args.rounds)
    joins: dict[str, dict[str, Any]] = {}
    for name, grids in (("grids", "grid_version"), ("pieces", "bench_grid_piece")):
        join = Join(conninfo, grids)
        joins[name] = measure_join(join, x, y, args.rounds, args.sample)
        join.close()
    check(timed, joins, len(x))
    n = len(x)
    figures: dict[str, Any] = {
        "inside_town": sum(c is not None for c in joins["pieces"]["answer"]["town"]),
        "pieces": session.scalar(text("SELECT count(*) FROM bench_grid_piece"))}
    for name, (seconds, _) in timed.items():
        figures[f"{name}_s"] = round(seconds, 3)
        figures[f"{name}_points_per_s"] = round(n / seconds)
    for name, measured in joins.items():
        figures[f"join_{name}"] = {k: v for k, v in measured.items() if k != "answer"}
    fetch = max(measured["fetch_points_per_s"] for measured in joins.values())
    for name in timed:
        figures[f"ratio_{name}_vs_join"] = round(figures[f"{name}_points_per_s"] / fetch, 2)
    count = max(measured.get("count_points_per_s", 0) for measured in joins.values())
    figures["ratio_fields_json_vs_join_count_only"] = round(
        figures["fields_json_points_per_s"] / count, 2)
    return figures


def check(timed: dict[str, tuple[float, Any]], joins: dict[str, dict[str, Any]], n: int) -> None:
    """Every answer equal to the joins' codes (on the points each join was given)."""
    table, lines, results = (timed[k][1] for k in ("fields_json", "fields_csv", "full"))
    assert list(table) == list(FIELDS)
    parsed = list(csv.reader(io.StringIO("\n".join(lines))))
    assert parsed[0] == list(FIELDS) and len(parsed) == n + 1
    for k, field in enumerate(FIELDS):
        column = table[field]
        assert [r[field]["code"] if r[field] else None for r in results] == column, field
        assert [row[k] or None for row in parsed[1:]] == column, field
        for join in joins.values():
            assert join["answer"][field] == column[:join["points"]], field


def run(url: str, args: argparse.Namespace) -> dict[str, object]:
    engine = migrations.migrated_engine(url)
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    factory = sessionmaker(bind=engine)
    results: dict[str, object] = {
        "points": args.points, "fields": ",".join(FIELDS), "segment_degrees": args.segment,
        "pieces_max_vertices": args.pieces}
    folder = Path(tempfile.mkdtemp())
    with factory() as session:
        auth_service.add_account(session, username="bench", role="admin")
        token = auth_service.issue_token(session, username="bench")
        session.commit()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        import_demo(session)
        x, y = random_points(session, args.points, seed=3)
        with served(url, PORT), httpx.Client(timeout=600) as client:
            for variant in ("simple", "detailed"):
                if variant == "detailed":
                    densify(session, folder, args.segment)
                    time.sleep(2)  # the service's locator notices the import (1 s refresh)
                figures = measure(client, headers, session, conninfo, x, y, args)
                results[variant] = {**boundary_figures(session), **figures}
                print(variant, json.dumps(results[variant], ensure_ascii=False), flush=True)
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--segment", type=float, default=2e-5,
                        help="ST_Segmentize's longest edge for the detailed set, degrees")
    parser.add_argument("--pieces", type=int, default=256,
                        help="ST_Subdivide's most vertices per piece for the second join")
    parser.add_argument("--sample", type=int, default=2000,
                        help="points a join too slow for the whole set is timed on")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
