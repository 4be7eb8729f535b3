"""The locator from a town to a province: the adaptive index and the one before it, in one run.

    .venv/bin/python bench/bench_locator_scale.py [--grids 1000,10000,100000] [--vertices 200]
        [--points 1000000] [--sample 2000] [--baseline e329b5d] [--postgis]
        [--json bench/out/locator_scale.json]

Province: Voronoi grids of ~200 vertices (`bench/province_grids.py`: neighbours share their
vertices exactly) on a ~113,000 km2 box near Jiangsu, for each grid count.  Town: the demo town
(`data/demo/grids.geojson`, levels 1, 2 and 3) and the synthetic town of BENCHMARKS (simple and
detailed boundaries), located through their three levels.

Each (locator, case) is measured in a fresh process: build seconds, RSS added by the build
(after a garbage collection), points per second on 1,000,000 uniform points over the case's
box (best of --repeat), single-point `locate_point` p50/p99 (towns), and exactness on a sample:
half uniform points, half on and beside the boundaries (shared vertices, points along shared
edges, one ulp off a vertex), both `locate` and `locate_point` against the smallest code of the
polygons that `shapely.covers` the point.  "old" is `grid_layers/locator.py` at --baseline (read
with `git show`), "new" the working tree's.  --postgis also checks the new locator's answers on
the largest province's sample against PostGIS `ST_Covers` (a throw-away embedded cluster).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import math
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import psutil
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic_town import build_town  # noqa: E402

BASELINE = "e329b5d"  # the regular cell index capped at 512 cells a side
Points = NDArray[np.float64]


# --- province-sized grids ------------------------------------------------------------------
# Voronoi cells with densified, shared, slightly wiggled edges: `province_grids(n, vertices)`
# tiles a province-sized box (~340 km x 330 km near Jiangsu, 117.4-121.0E, 31.0-34.0N, ~113,000
# km2) with n Voronoi grids of about `vertices` vertices each.  Neighbours share bit-identical
# vertices along their common edges (each edge is densified and wiggled once, then used forwards
# by one grid and backwards by the other), so the grids are an exact partition of their union,
# as imported boundaries are.  Seeds outside the box keep every grid bounded; the union's border
# is therefore a little jagged.

EXTENT = (117.4, 31.0, 121.0, 34.0)  # lon/lat box
WIGGLE = 0.03  # wiggle amplitude as a share of the edge's length


def province_grids(
    n: int, vertices: int = 200, seed: int = 0, extent: tuple[float, float, float, float] = EXTENT
) -> tuple[list[str], list[BaseGeometry]]:
    """n grids as (codes, polygons); codes are shuffled so that code order is not space order."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    area = (x1 - x0) * (y1 - y0)
    spacing = math.sqrt(area / n)
    m = 3 * spacing  # margin of seeds around the box: every inner cell is closed by them
    inner = np.c_[rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]
    k = int((x1 - x0 + 2 * m) * (y1 - y0 + 2 * m) / area * n)  # the same density around it
    outer = np.c_[rng.uniform(x0 - m, x1 + m, k), rng.uniform(y0 - m, y1 + m, k)]
    outside = (outer[:, 0] < x0) | (outer[:, 0] > x1) | (outer[:, 1] < y0) | (outer[:, 1] > y1)
    outer = outer[outside]
    frame = shapely.box(x0 - 2 * m, y0 - 2 * m, x1 + 2 * m, y1 + 2 * m)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.r_[inner, outer]), extend_to=frame, ordered=True
        )
    )[:n]
    b = shapely.bounds(cells)
    assert (b[:, 0] > x0 - 2 * m).all() and (b[:, 2] < x1 + 2 * m).all(), "a cell reached the frame"
    geoms = _densify(cells, vertices, rng)
    codes = [f"G{i:06d}" for i in rng.permutation(n)]
    return codes, list(geoms)


def _densify(
    cells: NDArray[np.object_], vertices: int, rng: np.random.Generator
) -> NDArray[np.object_]:
    """Each cell's edges densified to ~vertices per cell in all, each shared edge once."""
    rings = shapely.get_exterior_ring(cells)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    seg = np.flatnonzero(ring[1:] == ring[:-1])  # edge seg: xy[seg] -> xy[seg + 1]
    a, b = xy[seg], xy[seg + 1]
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    p = np.where(flip[:, None], b, a)  # canonical direction: from the smaller endpoint
    q = np.where(flip[:, None], a, b)
    key = np.ascontiguousarray(np.c_[p, q]).view(np.dtype((np.void, 32))).ravel()
    _, first, edge = np.unique(key, return_index=True, return_inverse=True)
    edge = edge.ravel()
    p, q = p[first], q[first]
    length = np.hypot(*(q - p).T)
    per_cell = np.bincount(ring[seg], weights=length[edge])
    step = per_cell.mean() / vertices
    inner = np.maximum(0, np.round(length / step).astype(np.int64) - 1)  # points inside an edge
    amplitude = WIGGLE * length * rng.uniform(-1, 1, len(length))
    phase = rng.uniform(0, 2 * math.pi, len(length))
    while True:
        pts_start = np.cumsum(inner) - inner
        e = np.repeat(np.arange(len(inner)), inner)
        k = np.arange(len(e)) - pts_start[e] + 1
        t = k / (inner[e] + 1)
        d = q[e] - p[e]
        normal = np.c_[-d[:, 1], d[:, 0]] / length[e][:, None]
        w = amplitude[e] * np.sin(math.pi * t) * (0.6 + 0.4 * np.sin(5 * math.pi * t + phase[e]))
        pts = p[e] + d * t[:, None] + normal * w[:, None]
        # every cell edge: its first vertex, then the edge's inner points forwards or backwards
        cnt = 1 + inner[edge]
        start = np.cumsum(cnt) - cnt
        j = np.arange(int(cnt.sum())) - np.repeat(start, cnt)  # 0 = the vertex, 1.. = inner
        ce = np.repeat(np.arange(len(seg)), cnt)
        fw = ~np.repeat(flip, cnt)
        idx = np.where(fw, j - 1, inner[edge[ce]] - j)  # which inner point of the edge
        src = pts_start[edge[ce]] + idx
        pts = np.r_[pts, np.zeros((1, 2))]  # (a last row, so that no index is out of range)
        out = np.where((j == 0)[:, None], xy[seg[ce]], pts[np.clip(src, 0, len(pts) - 1)])
        owner = ring[seg[ce]]
        geoms = shapely.polygons(shapely.linearrings(out, indices=owner))
        bad = ~shapely.is_valid(geoms)
        if not bad.any():
            return geoms
        amplitude[edge[np.isin(ring[seg], np.flatnonzero(bad))]] = 0.0  # straighten, try again


def random_points(
    n: int, seed: int, extent: tuple[float, float, float, float] = EXTENT
) -> tuple[Points, Points]:
    """n uniform points over the box."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = extent
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def boundary_points(geoms: list[BaseGeometry], n: int, seed: int) -> tuple[Points, Points]:
    """n points on and beside the grids' boundaries: shared vertices, points along shared edges
    (as near as floats get), and one ulp off a vertex."""
    rng = np.random.default_rng(seed)
    xy, ring = shapely.get_coordinates(shapely.get_exterior_ring(geoms), return_index=True)
    pick = rng.choice(len(xy) - 1, n)
    pick = np.where(ring[pick] == ring[pick + 1], pick, pick - 1)  # an edge's first vertex
    a, b = xy[pick], xy[pick + 1]
    t = rng.uniform(0, 1, n)[:, None]
    kind = rng.integers(0, 4, n)[:, None]
    out = np.where(kind == 0, a, np.where(kind == 1, a + (b - a) * t, a + (b - a) * 0.5))
    out = np.where(kind == 3, np.nextafter(a, rng.choice([-np.inf, np.inf], (n, 2))), out)
    return out[:, 0].copy(), out[:, 1].copy()


# --- cases ---------------------------------------------------------------------------------


def province_case(n: int, vertices: int, points: int, sample: int, seed: int) -> dict[str, Any]:
    """One level of n grids, the points and the sample with its expected answers."""
    codes, geoms = province_grids(n, vertices, seed=seed)
    return _case(f"province {n:,}", [(codes, geoms)], points, sample, seed)


def town_cases(points: int, sample: int, seed: int) -> list[dict[str, Any]]:
    """The demo town's three levels, and the synthetic town's (simple, detailed)."""
    features = json.loads((ROOT / "data/demo/grids.geojson").read_text())["features"]
    demo = []
    for level in (1, 2, 3):
        mine = [f for f in features if f["properties"].get("level") == level]
        demo.append(
            (
                [f["properties"]["code"] for f in mine],
                [shapely.geometry.shape(f["geometry"]) for f in mine],
            )
        )
    cases = [_case("demo town", demo, points, sample, seed)]
    for detailed in (False, True):
        town = build_town(1, detailed)
        levels = [([c for c, _ in town[lv]], [g for _, g in town[lv]]) for lv in (1, 2, 3)]
        name = "synthetic town, " + ("detailed" if detailed else "simple")
        cases.append(_case(name, levels, points, sample, seed))
    return cases


def _case(
    name: str, levels: list[tuple[list[str], list[Any]]], points: int, sample: int, seed: int
) -> dict[str, Any]:
    geoms = [g for _, gs in levels for g in gs]
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
    rng = np.random.default_rng(seed + 1)
    x, y = rng.uniform(x0, x1, points), rng.uniform(y0, y1, points)
    half = sample // 2
    bx, by = boundary_points(levels[-1][1], sample - half, seed + 2)
    sx, sy = np.r_[x[:half], bx], np.r_[y[:half], by]
    return {
        "name": name,
        "levels": [
            (codes, list(shapely.to_wkb(np.array(gs, dtype=object)))) for codes, gs in levels
        ],
        "x": x,
        "y": y,
        "sx": sx,
        "sy": sy,
        "expected": [_covering_code(codes, gs, sx, sy) for codes, gs in levels],
        "vertices": int(shapely.get_num_coordinates(levels[-1][1]).sum()),
    }


def _covering_code(
    codes: list[str], geoms: list[Any], x: NDArray[np.float64], y: NDArray[np.float64]
) -> list[str | None]:
    """Per point, the smallest code (plain string order) whose polygon covers it."""
    order = sorted(range(len(codes)), key=codes.__getitem__)
    tree = shapely.STRtree(np.array([geoms[i] for i in order], dtype=object))
    pi, gi = tree.query(shapely.points(x, y), predicate="covered_by")
    best = np.full(len(x), np.iinfo(np.int64).max)
    np.minimum.at(best, pi, gi)
    return [codes[order[b]] if b < len(codes) else None for b in best.tolist()]


# --- one measurement, in its own process ---------------------------------------------------


def measure(module: ModuleType, case: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Build, memory, throughput, latency and exactness of one locator on one case."""
    geoms = [(codes, list(shapely.from_wkb(wkb))) for codes, wkb in case["levels"]]
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    start = time.perf_counter()
    layers = [module.PartitionLayer(codes, gs) for codes, gs in geoms]
    build = time.perf_counter() - start
    gc.collect()
    rss1 = proc.memory_info().rss
    x, y = case["x"], case["y"]
    for layer in layers:
        layer.locate(x[:1000], y[:1000])  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for layer in layers:
            layer.locate(x, y)
        times.append(time.perf_counter() - start)
    sx, sy = case["sx"], case["sy"]
    exact_batch = exact_scalar = 0
    answers = []
    for layer, expected in zip(layers, case["expected"], strict=True):
        got = [layer.codes[i] if i >= 0 else None for i in layer.locate(sx, sy).tolist()]
        one = [layer.locate_point(a, b) for a, b in zip(sx.tolist(), sy.tolist(), strict=True)]
        exact_batch += sum(g == e for g, e in zip(got, expected, strict=True))
        exact_scalar += sum(g == e for g, e in zip(one, expected, strict=True))
        answers.append(got)
    lat = []
    clock = time.perf_counter_ns
    for px, py in zip(x[:20_000].tolist(), y[:20_000].tolist(), strict=True):
        start_ns = clock()
        for layer in layers:
            layer.locate_point(px, py)
        lat.append(clock() - start_ns)
    us = np.array(lat[100:]) / 1000
    best = min(times)
    return {
        "build_s": build,
        "rss_added_mib": (rss1 - rss0) / 2**20,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
        "locate_s": best,
        "locate_median_s": float(np.median(times)),
        "points_per_s": len(x) / best,
        "point_p50_us": float(np.percentile(us, 50)),
        "point_p99_us": float(np.percentile(us, 99)),
        "sample": len(sx) * len(layers),
        "exact_batch": exact_batch,
        "exact_scalar": exact_scalar,
        "answers": answers,
        "top_cells": [list(layer.shape) for layer in layers],
        "index_mib": sum(layer.nbytes() for layer in layers) / 2**20
        if hasattr(layers[0], "nbytes")
        else None,
    }


def load_locator(which: str, baseline_file: Path) -> ModuleType:
    if which == "new":
        from grid_layers import locator

        return locator
    spec = importlib.util.spec_from_file_location("locator_baseline", baseline_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(args: argparse.Namespace) -> None:
    """--worker WHICH CASE_FILE: one measurement, JSON on stdout."""
    with open(args.case_file, "rb") as f:
        case = pickle.load(f)
    module = load_locator(args.worker, Path(args.baseline_file))
    print(json.dumps(measure(module, case, args.repeat)))


def run_worker(which: str, case_file: Path, baseline_file: Path, repeat: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            which,
            "--case-file",
            str(case_file),
            "--baseline-file",
            str(baseline_file),
            "--repeat",
            str(repeat),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- PostGIS -------------------------------------------------------------------------------


def postgis_check(case: dict[str, Any], answers: list[str | None]) -> dict[str, Any]:
    """The sample's answers against PostGIS ST_Covers (smallest code in C collation)."""
    from sqlalchemy import create_engine, text

    from bench.common import throwaway_database

    codes, wkb = case["levels"][-1]
    with throwaway_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(text("DROP TABLE IF EXISTS scale_grid, scale_point"))
            conn.execute(text("CREATE UNLOGGED TABLE scale_grid (code text, geom geometry)"))
            conn.execute(text("CREATE UNLOGGED TABLE scale_point (id int, geom geometry)"))
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                with cur.copy("COPY scale_grid (code, geom) FROM STDIN") as copy:
                    for code, w in zip(codes, wkb, strict=True):
                        copy.write_row((code, w.hex()))
                with cur.copy("COPY scale_point (id, geom) FROM STDIN") as copy:
                    for i, (px, py) in enumerate(
                        zip(case["sx"].tolist(), case["sy"].tolist(), strict=True)
                    ):
                        copy.write_row((i, f"POINT({px!r} {py!r})"))
            conn.execute(text("CREATE INDEX ON scale_grid USING gist (geom)"))
            conn.execute(text("ANALYZE scale_grid"))
            start = time.perf_counter()
            rows = conn.execute(
                text(
                    'SELECT p.id, min(g.code COLLATE "C") FROM scale_point p LEFT JOIN '
                    "scale_grid g ON ST_Covers(g.geom, p.geom) GROUP BY p.id ORDER BY p.id"
                )
            ).all()
            seconds = time.perf_counter() - start
        engine.dispose()
    postgis = [code for _, code in rows]
    agree = sum(a == b for a, b in zip(answers, postgis, strict=True))
    return {"points": len(rows), "agree": agree, "join_s": seconds}


# --- report --------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    head = ("case", "locator", "build s", "RSS added MiB", "points/s", "p50/p99 us", "exact")
    rows = [head]
    for r in results:
        for which in ("old", "new"):
            m = r[which]
            rows.append(
                (
                    r["name"],
                    which,
                    f"{m['build_s']:.2f}",
                    f"{m['rss_added_mib']:,.0f}",
                    f"{m['points_per_s'] / 1e6:.2f} M",
                    f"{m['point_p50_us']:.1f}/{m['point_p99_us']:.1f}",
                    f"{m['exact_batch']}/{m['sample']} ({m['exact_scalar']} one by one)",
                )
            )
        o, n = r["old"], r["new"]
        rows.append(
            (
                "",
                "new vs old",
                f"{o['build_s'] / n['build_s']:.1f}x faster",
                f"{o['rss_added_mib'] / max(n['rss_added_mib'], 1):.1f}x less",
                f"{n['points_per_s'] / o['points_per_s']:.2f}x",
                "",
                "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--grids", default="1000,10000,100000", help="province grid counts")
    parser.add_argument("--vertices", type=int, default=200, help="vertices per grid (about)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000, help="exactness sample per level")
    parser.add_argument("--repeat", type=int, default=5, help="timed locate runs (best)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old locator")
    parser.add_argument("--no-town", action="store_true", help="skip the town cases")
    parser.add_argument("--postgis", action="store_true", help="check against PostGIS too")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", choices=("old", "new"), help=argparse.SUPPRESS)
    parser.add_argument("--case-file", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "numpy": np.__version__,
        },
        "baseline": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", args.baseline],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        "cases": [],
    }
    with tempfile.TemporaryDirectory(prefix="locator-scale-") as tmp:
        baseline_file = Path(tmp) / "locator_baseline.py"
        baseline_file.write_text(
            subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{args.baseline}:grid_layers/locator.py"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        cases: list[Any] = []
        if not args.no_town:
            cases += [lambda: town_cases(args.points, args.sample, args.seed)]
        for n in (int(v) for v in args.grids.split(",") if v):
            cases.append(
                lambda n=n: [province_case(n, args.vertices, args.points, args.sample, args.seed)]
            )
        last_province: dict[str, Any] | None = None
        for make in cases:
            t = time.perf_counter()
            for case in make():
                print(
                    f"{case['name']}: made in {time.perf_counter() - t:.1f} s; measuring ...",
                    file=sys.stderr,
                    flush=True,
                )
                case_file = Path(tmp) / "case.pkl"
                with open(case_file, "wb") as f:
                    pickle.dump(case, f)
                entry: dict[str, Any] = {"name": case["name"], "vertices": case["vertices"]}
                for which in ("old", "new"):
                    entry[which] = run_worker(which, case_file, baseline_file, args.repeat)
                    print(
                        f"  {which}: build {entry[which]['build_s']:.2f} s, "
                        f"{entry[which]['points_per_s'] / 1e6:.2f} M points/s",
                        file=sys.stderr,
                        flush=True,
                    )
                if case["name"].startswith("province"):
                    last_province = {"case": case, "answers": entry["new"]["answers"][-1]}
                for which in ("old", "new"):
                    del entry[which]["answers"]
                results["cases"].append(entry)
                t = time.perf_counter()
        if args.postgis and last_province is not None:
            print("PostGIS ST_Covers check ...", file=sys.stderr, flush=True)
            results["postgis"] = postgis_check(last_province["case"], last_province["answers"])
            results["postgis"]["case"] = last_province["case"]["name"]
    print(table(results["cases"]))
    if "postgis" in results:
        p = results["postgis"]
        print(
            f"PostGIS ST_Covers, {p['case']} sample: {p['agree']}/{p['points']} agree "
            f"(join {p['join_s']:.2f} s)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=float))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
