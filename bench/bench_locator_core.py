"""The in-process cell-index locator against shapely baselines and H3, on the synthetic town.

    .venv/bin/python bench/bench_locator_core.py [--points 1000000] [--json bench/out/core.json]

For simple and detailed (~2,000-5,000 vertices per grid) boundaries of the same town it measures:
  1. our PartitionLayer.locate through levels 1, 2 and 3 (build time, points/s);
  2. baseline A: shapely STRtree(grids).query(points, predicate="intersects") (prepares points);
  3. baseline B: prepared intersects_xy of every grid over all points, no index;
  4. single-point locate_point through the three levels, p50/p99 in microseconds;
  5. H3 at res 9 and 10: each point gets the level-3 grid covering its cell's centre, and the
     share of points that lands in the wrong grid.
Every method's answers are checked against B (which is brute force), so a fast wrong answer shows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3_int
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic_town import Town, build_town, random_points
from grid_layers.locator import PartitionLayer

LEVELS = (1, 2, 3)
Answers = NDArray[np.int32]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of fn over repeat runs (after one warm-up), and its last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), result


def ours(
    layers: dict[int, PartitionLayer], x: NDArray[np.float64], y: NDArray[np.float64]
) -> dict[int, Answers]:
    """Our locator through every level."""
    return {level: layer.locate(x, y) for level, layer in layers.items()}


def baseline_a(
    trees: dict[int, shapely.STRtree], x: NDArray[np.float64], y: NDArray[np.float64]
) -> dict[int, Answers]:
    """STRtree.query(points, predicate="intersects"): GEOS prepares each point, not the grid."""
    points = shapely.points(x, y)
    out = {}
    for level, tree in trees.items():
        pi, gi = tree.query(points, predicate="intersects")
        ans = np.full(len(x), np.iinfo(np.int32).max, np.int32)
        np.minimum.at(ans, pi, gi.astype(np.int32))  # grids are in code order: smallest wins
        out[level] = np.where(ans == np.iinfo(np.int32).max, -1, ans).astype(np.int32)
    return out


def baseline_b(
    geoms: dict[int, NDArray[np.object_]], x: NDArray[np.float64], y: NDArray[np.float64]
) -> dict[int, Answers]:
    """Every prepared grid against every point (brute force, exact)."""
    out = {}
    for level, gs in geoms.items():
        ans = np.full(len(x), -1, np.int32)
        for i in range(len(gs) - 1, -1, -1):  # descending, so the smallest code is written last
            ans[shapely.intersects_xy(gs[i], x, y)] = i
        out[level] = ans
    return out


def scalar_latency(
    layers: dict[int, PartitionLayer], x: NDArray[np.float64], y: NDArray[np.float64]
) -> dict[str, float]:
    """p50/p99 of one point through all levels with locate_point, in microseconds."""
    calls = [layer.locate_point for layer in layers.values()]
    samples = []
    clock = time.perf_counter_ns
    for px, py in zip(x.tolist(), y.tolist(), strict=True):
        t = clock()
        for call in calls:
            call(px, py)
        samples.append(clock() - t)
    us = np.array(samples[100:]) / 1000  # skip the first few (cold caches)
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99))}


def h3_error(
    layer: PartitionLayer, exact: Answers, x: NDArray[np.float64], y: NDArray[np.float64], res: int
) -> dict[str, float]:
    """Assign each point the level-3 grid covering its H3 cell's centre; count the misses."""
    t = time.perf_counter()
    to_cell = h3_int.latlng_to_cell
    cells = np.array(
        [to_cell(b, a, res) for a, b in zip(x.tolist(), y.tolist(), strict=True)], np.uint64
    )
    lookup_s = time.perf_counter() - t
    uniq, inverse = np.unique(cells, return_inverse=True)
    centres = np.array([h3_int.cell_to_latlng(c) for c in uniq.tolist()])
    by_cell = layer.locate(centres[:, 1], centres[:, 0])
    guess = by_cell[inverse.ravel()]
    inside = exact >= 0
    return {
        "res": res,
        "edge_m": float(h3.average_hexagon_edge_length(res, unit="m")),
        "cells": len(uniq),
        "wrong_share_inside": float(np.mean(guess[inside] != exact[inside])),
        "wrong_share_all": float(np.mean(guess != exact)),
        "lookup_points_per_s": len(x) / lookup_s,
    }


def run_variant(
    town: Town, x: NDArray[np.float64], y: NDArray[np.float64], args: argparse.Namespace
) -> dict[str, Any]:
    """Every measurement for one variant of the town."""
    out: dict[str, Any] = {"vertices": {}, "build_s": {}, "cells": {}}
    layers = {}
    for level in LEVELS:
        codes, geoms = [c for c, _ in town[level]], [g for _, g in town[level]]
        nv = shapely.get_num_coordinates(geoms)
        out["vertices"][level] = {
            "min": int(nv.min()),
            "median": int(np.median(nv)),
            "max": int(nv.max()),
        }
        geoms = [shapely.from_wkb(shapely.to_wkb(g)) for g in geoms]  # fresh, unprepared copies
        t = time.perf_counter()
        layers[level] = PartitionLayer(codes, geoms)
        out["build_s"][level] = time.perf_counter() - t
        out["cells"][level] = list(layers[level].shape)
    n = len(x)
    secs, mine = timed(lambda: ours(layers, x, y), args.repeat)
    out["ours"] = {"seconds": secs, "points_per_s": n / secs}
    out["ours"]["per_level_s"] = {
        lv: timed(partial(layers[lv].locate, x, y), args.repeat)[0] for lv in LEVELS
    }

    fresh = {
        lv: np.array([shapely.from_wkb(shapely.to_wkb(g)) for _, g in town[lv]]) for lv in LEVELS
    }
    secs_b, ref = timed(lambda: baseline_b(fresh, x, y), 1)  # prepares on first use (warm-up)
    out["baseline_b"] = {"seconds": secs_b, "points_per_s": n / secs_b}
    out["ours_agrees_with_brute_force"] = all(
        bool(np.array_equal(mine[lv], ref[lv])) for lv in LEVELS
    )

    m = min(n, args.baseline_a_points)
    trees = {
        lv: shapely.STRtree(np.array([shapely.from_wkb(shapely.to_wkb(g)) for _, g in town[lv]]))
        for lv in LEVELS
    }
    secs_a, got_a = timed(lambda: baseline_a(trees, x[:m], y[:m]), 1)
    out["baseline_a"] = {"seconds": secs_a, "points": m, "points_per_s": m / secs_a}
    out["baseline_a_agrees"] = all(bool(np.array_equal(got_a[lv], ref[lv][:m])) for lv in LEVELS)
    out["speedup_vs_a"] = out["ours"]["points_per_s"] / out["baseline_a"]["points_per_s"]
    out["speedup_vs_b"] = out["ours"]["points_per_s"] / out["baseline_b"]["points_per_s"]

    k = min(n, args.scalar_points)
    out["scalar"] = scalar_latency(layers, x[:k], y[:k])
    scalar_ok = all(
        layers[lv].locate_point(px, py)
        == (layers[lv].codes[i] if (i := int(ref[lv][j])) >= 0 else None)
        for lv in LEVELS
        for j, (px, py) in enumerate(zip(x[:2000].tolist(), y[:2000].tolist(), strict=True))
    )
    out["scalar_agrees"] = scalar_ok
    h = min(n, args.h3_points)
    out["h3"] = [h3_error(layers[3], ref[3][:h], x[:h], y[:h], res) for res in (9, 10)]
    return out


def table(results: dict[str, Any], n: int) -> str:
    """The results as a fixed-width text table."""
    s, d = results["simple"], results["detailed"]
    rows = [("", "simple", "detailed")]

    def add(name: str, fn: Callable[[dict[str, Any]], str]) -> None:
        rows.append((name, fn(s), fn(d)))

    add("vertices per grid L3 (median)", lambda r: f"{r['vertices'][3]['median']:,}")
    add("vertices per grid L2 (median)", lambda r: f"{r['vertices'][2]['median']:,}")
    add("vertices L1", lambda r: f"{r['vertices'][1]['median']:,}")
    add("build L1/L2/L3 (s)", lambda r: "/".join(f"{r['build_s'][lv]:.3f}" for lv in LEVELS))
    add(f"ours: {n:,} pts x 3 levels (s)", lambda r: f"{r['ours']['seconds']:.3f}")
    add("ours: points/s (3 levels)", lambda r: f"{r['ours']['points_per_s']:,.0f}")
    add(
        "ours: per level L1/L2/L3 (ms)",
        lambda r: "/".join(f"{1e3 * r['ours']['per_level_s'][lv]:.0f}" for lv in LEVELS),
    )
    add("baseline A STRtree query: points/s", lambda r: f"{r['baseline_a']['points_per_s']:,.0f}")
    add(
        "baseline B prepared, no index: points/s",
        lambda r: f"{r['baseline_b']['points_per_s']:,.0f}",
    )
    add("ours / A", lambda r: f"{r['speedup_vs_a']:,.1f}x")
    add("ours / B", lambda r: f"{r['speedup_vs_b']:,.1f}x")
    add("locate_point 3 levels p50 (us)", lambda r: f"{r['scalar']['p50_us']:.1f}")
    add("locate_point 3 levels p99 (us)", lambda r: f"{r['scalar']['p99_us']:.1f}")
    for i in (0, 1):

        def wrong(r: dict[str, Any], i: int = i) -> str:
            return f"{100 * r['h3'][i]['wrong_share_inside']:.2f}%"

        add(f"H3 res {s['h3'][i]['res']} (edge {s['h3'][i]['edge_m']:.0f} m): wrong L3 grid", wrong)
    add(
        "H3 res 9 latlng_to_cell only: points/s",
        lambda r: f"{r['h3'][0]['lookup_points_per_s']:,.0f}",
    )
    add(
        "all answers agree with brute force",
        lambda r: str(
            r["ours_agrees_with_brute_force"] and r["scalar_agrees"] and r["baseline_a_agrees"]
        ),
    )
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    slow = d["ours"]["seconds"] / s["ours"]["seconds"] - 1
    lines.append(f"detailed vs simple, ours: {100 * slow:+.1f}% (target <= +20%)")
    rates = [f"{r['ours']['points_per_s']:,.0f}" for r in (s, d)]
    lines.append(f"throughput, 3 levels (target >= 500,000 points/s): {rates[0]} / {rates[1]}")
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark, print the table, optionally write JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--points", type=int, default=1_000_000, help="random points in the town's bbox"
    )
    parser.add_argument(
        "--baseline-a-points",
        type=int,
        default=100_000,
        help="baseline A is slow on detailed grids: run it on this many of the points",
    )
    parser.add_argument(
        "--scalar-points", type=int, default=20_000, help="points for the locate_point latency"
    )
    parser.add_argument(
        "--h3-points", type=int, default=1_000_000, help="points for the H3 comparison"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=1, help="town seed (points use seed + 1)")
    parser.add_argument(
        "--json", type=Path, help="write the results here (e.g. bench/out/core.json)"
    )
    args = parser.parse_args()

    results: dict[str, Any] = {
        "points": args.points,
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "numpy": np.__version__,
            "h3": h3.__version__,
        },
    }
    for name, detailed in (("simple", False), ("detailed", True)):
        t = time.perf_counter()
        town = build_town(args.seed, detailed)
        x, y = random_points(town, args.points, args.seed + 1)
        print(
            f"{name}: town built in {time.perf_counter() - t:.2f} s; measuring ...", file=sys.stderr
        )
        results[name] = run_variant(town, x, y, args)
    results["detailed_slowdown"] = (
        results["detailed"]["ours"]["seconds"] / results["simple"]["ours"]["seconds"] - 1
    )
    print(table(results, args.points))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=float))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
