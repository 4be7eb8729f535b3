"""The offline geocoder on a gazetteer and a labelled set of messy hotline queries.

    .venv/bin/python bench/bench_geocode.py [--json bench/out/geocode.json] [--seed 7]
        [--demo] [--repeat 2] [--no-area]

Starts a throw-away embedded PostGIS (or uses DATABASE_URL), imports a gazetteer through the
ordinary address importer: the synthetic one of `bench/geocode_set.py` (6,000–7,500 points),
or with --demo the demo town's `data/demo/addresses.csv` (8,197 points, queries from
`bench/geocode_demo_set.py`). Then runs every query through
`gis_service.geocode.service.geocode`, one session per query as a request has, and reports: the
share of house-level queries answered within 30 m of the truth (target ≥ 95%), the share of POI
queries placed at the POI (method poi, within 30 m), the share placed at the right level
("none" = rightly not placed), and queries/s (target ≥ 200; with --repeat, the best pass).

The geocoder is given the service area of the gazetteer's town (七都镇 under the default
`GIS_SERVICE_AREA_NAMES`), as the service gives it; `--no-area` runs it without, as before it
knew where it is. A second, separate set of queries names other places (吴江区松陵镇…,
浙江省湖州市…) before the gazetteer's roads and houses: all should be refused ("other places
refused"); they are not counted in the figures above.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import geocode_demo_set
from bench.common import throwaway_database, write_json
from bench.geocode_set import AddressPoint, Query, as_rows, build_gazetteer, build_queries
from gis_service import migrations
from gis_service.errors import NotFoundError
from gis_service.geocode.area import DEFAULT_AREA_NAMES, ServiceArea, area_names
from gis_service.geocode.service import GeocodeResult, geocode
from gis_service.imports.service import run_import

NEAR_M = 30.0
# The gazetteers' town under the default setting's county; and places that are not it.
AREA = ServiceArea(area_names(DEFAULT_AREA_NAMES), ("七都镇",))
OTHER_PLACES = ("吴江区松陵镇", "平望镇", "江苏省苏州市吴江区盛泽镇", "浙江省湖州市南浔区",
                "苏州市昆山市周市镇", "上海市青浦区", "江苏省无锡市宜兴市官林镇", "浙江湖州南浔区",
                "松陵街道", "吴江区震泽镇")
OTHER_PLACE_QUERIES = 80


def load_gazetteer(session: Session, folder: Path, seed: int, demo: bool) -> int:
    """The synthetic gazetteer written as a CSV file, or the demo town's, imported; returns
    the number of points."""
    if session.scalar(text("SELECT count(*) FROM address_point")):
        # other points would make the gazetteer's roads ambiguous, and would be left in place
        raise SystemExit("address_point is not empty: run on a throw-away database")
    path = geocode_demo_set.DEMO_CSV if demo else write_csv(folder, as_rows(build_gazetteer(seed)))
    report = run_import(session, "addresses", path)
    assert report.accepted, report.lines()[:5]
    session.commit()
    session.execute(text("ANALYZE address_point"))
    session.commit()
    return int(session.scalar(text("SELECT count(*) FROM address_point")) or 0)


def write_csv(folder: Path, rows: list[dict[str, object]]) -> Path:
    """The rows as a CSV file for the importer."""
    path = folder / "addresses.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two lon/lat points (equirectangular; fine within a town)."""
    dx = (lon1 - lon2) * 111_320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, (lat1 - lat2) * 110_574.0)


def run_queries(factory: sessionmaker[Session], queries: list[Query],
                area: ServiceArea | None) -> tuple[list[GeocodeResult | None], float]:
    """Each query's result (None when not placed) and the seconds they took in all."""
    results: list[GeocodeResult | None] = []
    start = time.perf_counter()
    for query in queries:
        with factory() as session:
            try:
                results.append(geocode(session, query.query, area=area))
            except NotFoundError:
                results.append(None)
    return results, time.perf_counter() - start


def other_place_queries(points: list[AddressPoint], seed: int) -> list[Query]:
    """Houses of the gazetteer behind the name of another town, county or province, with and
    without their village: none should be placed."""
    rng = random.Random(seed + 9)
    houses = [p for p in points if p.number and p.road and not p.road.endswith("组")]
    queries = []
    for n in range(OTHER_PLACE_QUERIES):
        p = rng.choice(houses)
        body = f"{p.village if n % 2 else ''}{p.road}{p.number}"
        queries.append(Query(f"{rng.choice(OTHER_PLACES)}{body}", "other_place", "none",
                             p.lon, p.lat, p.village, p.road))
    return queries


def score(queries: list[Query], results: list[GeocodeResult | None]) -> dict[str, Any]:
    """Per kind of query and overall: right level, within 30 m, median error."""
    kinds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for query, result in zip(queries, results, strict=True):
        method = result.method if result else "none"
        error = distance_m(result.lon, result.lat, query.lon, query.lat) if result else math.inf
        for name in (query.kind, f"all {query.level}", "all"):
            kinds[name]["level"].append(float(method == query.level))
            kinds[name]["error"].append(error)
            if query.level in ("house", "poi"):
                kinds[name]["near"].append(float(error <= NEAR_M))
            if query.level == "poi":  # the POI itself, not only a point near it
                kinds[name]["at_poi"].append(float(method == "poi" and error <= NEAR_M))
    table = {}
    for name, figures in kinds.items():
        placed = [e for e in figures["error"] if math.isfinite(e)]
        table[name] = {
            "queries": len(figures["level"]),
            "right_level": round(statistics.fmean(figures["level"]), 4),
            "within_30m": round(statistics.fmean(figures["near"]), 4) if figures["near"] else None,
            "at_poi": round(statistics.fmean(figures["at_poi"]), 4) if figures["at_poi"] else None,
            "median_error_m": round(statistics.median(placed), 1) if placed else None,
        }
    return table


def misses(queries: list[Query], results: list[GeocodeResult | None]) -> list[dict[str, Any]]:
    """The queries placed at the wrong level or, for houses and POIs, over 30 m away."""
    wrong = []
    for query, result in zip(queries, results, strict=True):
        method = result.method if result else "none"
        far = result is not None and query.level in ("house", "poi") and distance_m(
            result.lon, result.lat, query.lon, query.lat) > NEAR_M
        if method != query.level or far:
            wrong.append({"query": query.query, "kind": query.kind, "expected": query.level,
                          "method": method, "matched": result.matched if result else None,
                          "confidence": result.confidence if result else None})
    return wrong


def labelled_queries(seed: int, demo: bool) -> list[Query]:
    """The labelled set: from the demo gazetteer, or from the synthetic one of this seed."""
    if demo:
        return geocode_demo_set.build_queries(geocode_demo_set.load_points(), seed=seed + 4)
    return build_queries(build_gazetteer(seed), seed=seed + 4)


def run(url: str, seed: int, demo: bool = False, repeat: int = 1,
        area: ServiceArea | None = AREA) -> dict[str, Any]:
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    folder = Path(tempfile.mkdtemp())
    try:
        with factory() as session:
            points = load_gazetteer(session, folder, seed, demo)
        queries = labelled_queries(seed, demo)
        others = other_place_queries(
            geocode_demo_set.load_points() if demo else build_gazetteer(seed), seed)
        run_queries(factory, queries[:50], area)  # warm the pool, the caches and the plans
        passes = [run_queries(factory, queries, area) for _ in range(repeat)]
        refused = [r is None for r in run_queries(factory, others, area)[0]]
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    results, seconds = min(passes, key=lambda p: p[1])  # the answers are the same each pass
    table = score(queries, results)
    return {"gazetteer": "demo" if demo else f"synthetic seed {seed}", "points": points,
            "queries": len(queries), "seconds": round(seconds, 3),
            "queries_per_s": round(len(queries) / seconds, 1),
            "queries_per_s_each_pass": [round(len(queries) / s, 1) for _, s in passes],
            "house_within_30m": table["all house"]["within_30m"],
            "poi_at_poi": table["all poi"]["at_poi"],
            "right_level": table["all"]["right_level"], "by_kind": table,
            "service_area": area is not None,
            "other_places_refused": round(sum(refused) / len(refused), 4),
            "other_places": len(refused),
            "misses": misses(queries, results)}


def print_table(results: dict[str, Any]) -> None:
    print(f"{results['gazetteer']}: {results['points']} points, {results['queries']} queries, "
          f"{results['queries_per_s']} queries/s (passes: {results['queries_per_s_each_pass']}), "
          f"service area {'on' if results['service_area'] else 'off'}")
    print(f"other places refused: {results['other_places_refused']:.1%} "
          f"of {results['other_places']}")
    print(f"{'kind':22} {'n':>4} {'right level':>12} {'within 30 m':>12} {'at the POI':>11} "
          f"{'median m':>9}")
    for name, row in sorted(results["by_kind"].items()):
        near = "" if row["within_30m"] is None else f"{row['within_30m']:.1%}"
        at_poi = "" if row["at_poi"] is None else f"{row['at_poi']:.1%}"
        median = "" if row["median_error_m"] is None else f"{row['median_error_m']:.1f}"
        print(f"{name:22} {row['queries']:>4} {row['right_level']:>12.1%} {near:>12} "
              f"{at_poi:>11} {median:>9}")
    for miss in results["misses"][:40]:
        print("  miss:", miss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--demo", action="store_true",
                        help="the demo town's gazetteer (data/demo/addresses.csv)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="passes over the queries; queries/s of the best")
    parser.add_argument("--no-area", action="store_true",
                        help="geocode without the service area (other places not refused)")
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args.seed, args.demo, args.repeat, None if args.no_area else AREA)
    print_table(results)
    write_json(results, args.json)


if __name__ == "__main__":
    main()
