"""Repairing boundary files within a tolerance (`import grids --repair`), beside plain validation.

    .venv/bin/python bench/bench_repair.py [--spacing 2] [--level3 1000] [--rounds 3]
        [--no-county] [--json bench/out/repair.json]

(0) The demo town (90 grids, ~1,400 vertices: its villages' vertices lie on the town's edges
    without being its vertices, as in real files) cut to 6 decimals, with parents redrawn,
    digitised twice, and cut to 5 decimals (repaired with a 1 m tolerance).
(a) A detailed town (bench/synthetic_town.py: 1 + 18 + 64 grids, a vertex every 1.5 m), cut to
    6 decimals; the same with every parent's outline redrawn on its own (simplified by up to
    0.1 m, so children's vertices lie near, not on, their parent's edges) and cut to 6
    decimals; and digitised twice (every grid's vertices moved on their own by up to 0.25 m):
    `repair_hierarchy` timed (target < 2 s), beside
    `validate_hierarchy` of the clean town in the same run (the baseline: what every import
    already pays).
(b) A county of `--level3` level-3 grids (bench_plan_validation.build_county: 1 + 53 level-2 +
    level-3 + 53 special grids), boundaries densified to a vertex every `--spacing` metres
    (2 m gives about 2,500 vertices per level-3 grid), treated the same way (target < 30 s).
For each: problems before and after the repair, the repairs by kind, the largest shift.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_plan_validation as county_bench
from bench import synthetic_town as st
from bench.boundary_noise import generalised_parents, redigitised, rounded
from bench.common import write_json
from gis_service.demo import DEMO_DIR
from grid_layers.repair import repair_hierarchy
from grid_layers.validation import GridRecord, validate_hierarchy


def _timed(run: Callable[[], object], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3), result


def town_records(seed: int) -> list[GridRecord]:
    """The detailed synthetic town as grid records."""
    town = st.build_town(seed, detailed=True)
    records = []
    for level, grids in sorted(town.items()):
        for code, outline in grids:
            parent = None if level == 1 else code.rsplit("-", 1)[0]
            records.append(GridRecord(code, code, "comprehensive", level, parent, outline))
    return records


def demo_records() -> list[GridRecord]:
    """The demo town's 90 grids (data/demo/grids.geojson), whose villages' vertices lie on
    their town's edges without being its vertices, as in real files."""
    features = json.loads((DEMO_DIR / "grids.geojson").read_text(encoding="utf-8"))["features"]
    return [GridRecord(f["properties"]["code"], f["properties"]["name"],
                       f["properties"]["kind"], f["properties"]["level"],
                       f["properties"].get("parent_code"), shape(f["geometry"]))
            for f in features]


def measure(name: str, clean: list[GridRecord], rounds: int, target_s: float,
            demo: bool = False) -> dict[str, Any]:
    """Plain validation of the clean set, then repair of each damaged version."""
    validate_s, problems = _timed(lambda: validate_hierarchy(clean), rounds)
    out: dict[str, Any] = {
        "grids": len(clean),
        "vertices": int(sum(shapely.get_num_coordinates(g.geometry) for g in clean)),
        "baseline: validate the clean file s": validate_s,
        "clean problems": len(problems), "target_s": target_s}
    variants = {"6 decimals": (rounded(clean, 6), 0.5),
                "parents redrawn 0.1 m, 6 decimals": (
                    rounded(generalised_parents(clean, 0.1), 6), 0.5),
                "digitised twice 0.25 m": (redigitised(clean, 0.25, 7), 0.5)}
    if demo:
        variants["5 decimals, --tolerance 1"] = (rounded(clean, 5), 1.0)
    for label, (damaged, tolerance) in variants.items():
        before = validate_hierarchy(damaged)
        repair_s, outcome = _timed(partial(repair_hierarchy, damaged, tolerance), rounds)
        after = validate_hierarchy(list(outcome.records))
        kinds = Counter(r.kind for r in outcome.repairs)
        out[label] = {
            "problems before": len(before), "problems after": len(after),
            "repair s": repair_s,
            "repair / plain validation": round(repair_s / validate_s, 1),
            "repairs": dict(sorted(kinds.items())),
            "largest shift m": round(max((r.shift_m for r in outcome.repairs), default=0.0), 3)}
        print(f"{name} {label}: {out[label]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spacing", type=float, default=2.0)
    parser.add_argument("--level3", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-county", action="store_true", help="the towns only")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "demo town": measure("demo town", demo_records(), args.rounds, 2.0, demo=True),
        "town": measure("town", town_records(args.seed), args.rounds, 2.0)}
    if args.no_county:
        write_json(results, args.json)
        return
    county_bench.N_LEVEL3 = args.level3
    start = time.perf_counter()
    county = county_bench.build_county(args.seed, args.spacing)
    print(f"county built in {time.perf_counter() - start:.0f} s", flush=True)
    results["county"] = measure("county", county, args.rounds, 30.0)
    results["county"]["vertex spacing m"] = args.spacing
    write_json(results, args.json)


if __name__ == "__main__":
    main()
