"""Re-attributing history at province scale: N points against 10,000 grids, in one process, on
a dask LocalCluster of 2 workers, and as a PostGIS ST_Covers join on a sample, in one run.

    .venv/bin/python bench/bench_relocate.py [--points 100000000] [--grids 10000]
        [--vertices 200] [--partition 2000000] [--workers 2] [--postgis-sample 10000000]
        [--json bench/out/relocate.json]

The grids are `bench_locator_scale.province_grids` (Voronoi grids of ~200 vertices sharing
their edges exactly, on a ~113,000 km2 box near Jiangsu), loaded as the level-3 layer of the
locator `gis-service relocate` ships (`relocate/attribution.boundaries_of`); the towns, level-2
and special layers are empty. Points are uniform over the box, made where they are located:
each partition draws its own from a generator seeded by (seed, partition), so the client
never holds or sends them. A partition runs what a relocate batch runs
(`attribution.attribute`: every layer's codes as compact columns) and sends back its level-3
codes as one int32 per point (the codes out; summed into counts per grid by the client).

- in process: every partition one after another in this process (`runner.InProcess`'s way).
- LocalCluster: `--workers` worker processes of one thread; the locator goes to each as the
  relocate's worker plugin (`runner.Shipped`, counted on each worker), then the partitions
  are submitted (at most 2 per thread in flight, as the runner does); points/s over the wall
  time from the first submission to the last answer. Peak memory: each worker's ru_maxrss.
- PostGIS: the grids in a table with a GiST index, the sample's points made by
  generate_series in the database, then one statement stores each point's
  covering code (`LEFT JOIN … ON ST_Covers(g.geom, p.geom)` into an unlogged table, with
  PostgreSQL's parallel workers as configured), timed alone; a throw-away embedded cluster.
The answers of the first partition are checked equal between this process and a worker.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import shapely
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_locator_scale import EXTENT, province_grids  # noqa: E402
from bench.common import throwaway_database, write_json  # noqa: E402
from gis_service.locate.snapshot import Area, LayerInput  # noqa: E402
from gis_service.relocate.attribution import (  # noqa: E402
    FIELDS,
    Boundaries,
    Points,
    attribute,
    boundaries_of,
)
from gis_service.relocate.runner import Shipped, dask_client, loads_here  # noqa: E402

GRID3 = FIELDS.index("grid3")


def partition_points(seed: int, number: int, size: int) -> Points:
    """One partition's points: uniform over the box, drawn from its own seed."""
    rng = np.random.default_rng([seed, number])
    x0, y0, x1, y1 = EXTENT
    ids = np.arange(number * size, (number + 1) * size, dtype=np.int64)
    return Points(ids, rng.uniform(x0, x1, size), rng.uniform(y0, y1, size))


def relocate_partition(boundaries: Boundaries, seed: int, number: int,
                       size: int) -> NDArray[np.int32]:
    """Make a partition's points, locate them as relocate does; their level-3 code indexes."""
    answer = attribute(boundaries, partition_points(seed, number, size), only_changed=False)
    return answer.table.columns[GRID3].index.astype(np.int32)


def on_worker(seed: int, number: int, size: int) -> tuple[NDArray[np.int32], float]:
    """`relocate_partition` with the boundaries the worker was shipped, and its seconds."""
    from distributed import get_worker

    shipped = get_worker().plugins[Shipped.name]
    assert isinstance(shipped, Shipped)
    start = time.perf_counter()
    codes = relocate_partition(shipped.boundaries, seed, number, size)
    return codes, time.perf_counter() - start


def peak_rss_mib() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss is kept across exec on Linux, so
    a worker spawned from a big process would report that process's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sizes(points: int, partition: int) -> list[int]:
    """Partition sizes adding up to `points`."""
    full, rest = divmod(points, partition)
    return [partition] * full + ([rest] if rest else [])


def in_process(boundaries: Boundaries, parts: list[int], seed: int,
               codes: int) -> dict[str, Any]:
    counts = np.zeros(codes + 1, np.int64)
    rss = psutil.Process().memory_info().rss
    start = time.perf_counter()
    for number, size in enumerate(parts):
        counts += np.bincount(relocate_partition(boundaries, seed, number, size) + 1,
                              minlength=codes + 1)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "points_per_s": sum(parts) / seconds,
            "rss_before_mib": rss / 2**20, "peak_rss_mib": peak_rss_mib(),
            "counts": counts}


def on_cluster(boundaries: Boundaries, parts: list[int], seed: int, workers: int,
               codes: int) -> dict[str, Any]:
    from distributed import as_completed

    with dask_client(workers=workers, memory_limit=0) as client:
        client.wait_for_workers(workers)
        start = time.perf_counter()
        client.register_plugin(Shipped(boundaries), name=Shipped.name)
        shipped_s = time.perf_counter() - start
        counts = np.zeros(codes + 1, np.int64)
        busy = [0.0]

        def take(answer: tuple[NDArray[np.int32], float]) -> None:
            counts[:] += np.bincount(answer[0] + 1, minlength=codes + 1)
            busy[0] += answer[1]

        limit = 2 * workers
        pending = as_completed()
        waiting = 0
        first: NDArray[np.int32] | None = None
        start = time.perf_counter()
        for number, size in enumerate(parts):
            future = client.submit(on_worker, seed, number, size, pure=False)
            if number == 0:
                first = future.result()[0]
            pending.add(future)
            waiting += 1
            while waiting >= limit:
                take(next(pending).result())
                waiting -= 1
        for future in pending:
            take(future.result())
        seconds = time.perf_counter() - start
        loads = client.run(loads_here)
        peaks = client.run(peak_rss_mib)
        client.unregister_worker_plugin(Shipped.name)
    return {"seconds": seconds, "points_per_s": sum(parts) / seconds,
            "per_worker_points_per_busy_s": sum(parts) / busy[0], "ship_s": shipped_s,
            "unpickled_per_worker": sorted(loads.values()),
            "worker_peak_rss_mib": sorted(peaks.values()), "counts": counts, "first": first}


def postgis_join(codes: list[str], geoms: list[Any], sample: int, seed: int) -> dict[str, Any]:
    """The sample's points re-attributed by PostGIS: seconds of the join alone."""
    from sqlalchemy import create_engine, text

    x0, y0, x1, y1 = EXTENT
    with throwaway_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            conn.execute(text("DROP TABLE IF EXISTS bench_grid, bench_point, bench_answer"))
            conn.execute(text("CREATE UNLOGGED TABLE bench_grid (code text, geom geometry)"))
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur, \
                    cur.copy("COPY bench_grid (code, geom) FROM STDIN") as copy:
                for code, wkb in zip(codes, shapely.to_wkb(np.array(geoms, dtype=object)),
                                     strict=True):
                    copy.write_row((code, wkb.hex()))
            conn.execute(text("UPDATE bench_grid SET geom = ST_SetSRID(geom, 4490)"))
            conn.execute(text("CREATE INDEX ON bench_grid USING gist (geom)"))
            conn.execute(text("ANALYZE bench_grid"))
            start = time.perf_counter()
            conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
            conn.execute(text(
                "CREATE UNLOGGED TABLE bench_point AS SELECT i AS id, "
                "ST_SetSRID(ST_MakePoint(:x0 + random() * :w, :y0 + random() * :h), 4490) "
                "AS geom FROM generate_series(1, :n) AS i"),
                {"x0": x0, "w": x1 - x0, "y0": y0, "h": y1 - y0, "n": sample})
            conn.execute(text("ANALYZE bench_point"))
            made = time.perf_counter() - start
        with engine.begin() as conn:
            start = time.perf_counter()
            # the plain join: 1.8x the LATERAL (… ORDER BY code LIMIT 1) that names one grid on
            # a shared edge, and 1.5x the same join on ST_Subdivide(geom, 64) pieces (200,000
            # points, this machine); a uniform point lies on an edge with probability 0
            conn.execute(text(
                "CREATE UNLOGGED TABLE bench_answer AS SELECT p.id, g.code FROM bench_point p "
                "LEFT JOIN bench_grid AS g ON ST_Covers(g.geom, p.geom)"))
            seconds = time.perf_counter() - start
            located, rows = conn.execute(text(
                "SELECT count(code), count(*) FROM bench_answer")).one()
            workers = conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar_one()
        engine.dispose()
    return {"points": sample, "seconds": seconds, "points_per_s": sample / seconds,
            "located": int(located), "rows": int(rows), "points_made_s": made,
            "max_parallel_workers_per_gather": workers}


def mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def table(r: dict[str, Any]) -> str:
    one, many, pg = r["in_process"], r["cluster"], r["postgis"]
    rows = [
        ("engine", "points", "seconds", "points/s", "memory"),
        ("one process", f"{r['points']:,}", f"{one['seconds']:.1f}",
         f"{one['points_per_s'] / 1e6:.2f} M",
         f"peak {mib(one['peak_rss_mib'])} (grids made here too)"),
        (f"LocalCluster, {r['workers']} workers", f"{r['points']:,}", f"{many['seconds']:.1f}",
         f"{many['points_per_s'] / 1e6:.2f} M ({many['points_per_s'] / one['points_per_s']:.2f}x)",
         "peak per worker " + " / ".join(mib(v) for v in many["worker_peak_rss_mib"])),
        ("PostGIS ST_Covers + GiST", f"{pg['points']:,}", f"{pg['seconds']:.1f}",
         f"{pg['points_per_s'] / 1e6:.3f} M",
         f"max_parallel_workers_per_gather {pg['max_parallel_workers_per_gather']}"),
    ]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000_000)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--vertices", type=int, default=200)
    parser.add_argument("--partition", type=int, default=2_000_000, help="points per partition")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgis-sample", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg(),
                    "python": platform.python_version(), "numpy": np.__version__},
        "points": args.points, "grids": args.grids, "workers": args.workers,
        "partition": args.partition}
    start = time.perf_counter()
    codes, geoms = province_grids(args.grids, args.vertices, seed=args.seed)
    made = time.perf_counter() - start
    start = time.perf_counter()
    boundaries = boundaries_of(LayerInput(grid3=[
        Area(code, geom, {"code": code, "name": code})
        for code, geom in zip(codes, geoms, strict=True)]))
    results["grids_made_s"], results["build_s"] = made, time.perf_counter() - start
    results["locator_pickled_mib"] = len(pickle.dumps(Shipped(boundaries), protocol=5)) / 2**20
    print(f"{args.grids:,} grids made in {made:.1f} s, locator built in "
          f"{results['build_s']:.1f} s, {results['locator_pickled_mib']:.0f} MiB pickled",
          file=sys.stderr, flush=True)
    parts = sizes(args.points, args.partition)
    n_codes = len(boundaries.grid3_layer.codes)
    results["in_process"] = in_process(boundaries, parts, args.seed, n_codes)
    print(f"in process: {results['in_process']['points_per_s'] / 1e6:.2f} M points/s",
          file=sys.stderr, flush=True)
    results["cluster"] = on_cluster(boundaries, parts, args.seed, args.workers, n_codes)
    print(f"cluster: {results['cluster']['points_per_s'] / 1e6:.2f} M points/s",
          file=sys.stderr, flush=True)
    here = relocate_partition(boundaries, args.seed, 0, parts[0])
    results["same_answers"] = bool(
        np.array_equal(here, results["cluster"].pop("first"))
        and np.array_equal(results["in_process"].pop("counts"),
                           results["cluster"].pop("counts")))
    results["postgis"] = postgis_join(codes, geoms, min(args.postgis_sample, args.points),
                                      args.seed)
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    print(table(results))
    print(f"answers equal in process and on the cluster: {results['same_answers']}; "
          f"locator {results['locator_pickled_mib']:.0f} MiB pickled, shipped to the workers in "
          f"{results['cluster']['ship_s']:.1f} s, unpickled per worker "
          f"{results['cluster']['unpickled_per_worker']}; a worker's own rate while it ran a "
          f"partition {results['cluster']['per_worker_points_per_busy_s'] / 1e6:.2f} M points/s"
          f"; PostGIS located "
          f"{results['postgis']['located']:,} of {results['postgis']['points']:,}; load "
          f"{results['machine']['load_avg_at_start'][0]:.1f} at start, "
          f"{results['machine']['load_avg_at_end'][0]:.1f} at end")
    write_json(results, args.json)


if __name__ == "__main__":
    main()
