"""Validating a boundary plan (demo town; a synthetic 1,000-grid county) and suggesting a rebalance.

    .venv/bin/python bench/bench_plan_validation.py [--rounds 5] [--county-seed 7]
        [--spacing 10] [--json bench/out/plan_validation.json] [--profile]

(a) The demo town in a throw-away embedded PostGIS (`load_demo_town`), a draft of it
    (`create_plan`): `validate_hierarchy` over `as_record` of its grids, timed from the database
    (query, WKB to shapely, validate) and the validate call alone (target < 1 s).
(b) A synthetic county like Baoying (874 comprehensive + 53 special grids): one level-1 county,
    53 level-2 grids, 900 level-3 grids from nested Voronoi diagrams with shared noded edges,
    densified to a vertex every `--spacing` metres and wiggled (bench/synthetic_town.py's
    machinery), and 53 special grids (discs clipped to the county). `validate_hierarchy` is timed
    (target < 10 s) against the obvious baseline: the level-3 overlap check alone done as every
    pair's intersection without an STRtree, timed on 20,000 random pairs and extrapolated to all
    404,550, compared with the validator's own level-3 overlap step (STRtree candidates, then
    relate) and with the whole validation. `--profile` prints the top of a cProfile of one
    validation.
(c) `suggest_rebalance` of the whole demo town (band 300-500 households) and of one parent whose
    first grid gets 1,500 more dwellings (address points, and 1,500 more households on the
    grid); the core `rebalance_parent` of that parent alone; the validation of the suggestions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import synthetic_town as st
from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.addresses.models import AddressPoint
from gis_service.demo import load_demo_town
from gis_service.plans.drafts import as_record, create_plan, plan_grids, shape_of
from gis_service.plans.rebalance import suggest_rebalance, units_of
from grid_layers import validation
from grid_layers.rebalance import rebalance_parent
from grid_layers.validation import GridRecord, validate_hierarchy

BAND = (300, 500)
N_LEVEL2, N_LEVEL3, N_SPECIAL = 53, 900, 53
COUNTY_RADIUS_M = 21_000.0  # about 1,400 km², Baoying's size
BASELINE_PAIRS = 20_000


def _median_s(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def _records(session: Session, plan_id: int) -> list[GridRecord]:
    return [as_record(g) for g in plan_grids(session, plan_id)]


def demo_validation(session: Session, rounds: int) -> tuple[int, dict[str, Any]]:
    """(a): a draft of the demo town validated, from the database and alone."""
    plan = create_plan(session, owner="bench", name="bench")
    session.commit()
    records = _records(session, plan.id)
    problems = validate_hierarchy(records)
    return plan.id, {
        "grids": len(records), "problems": len(problems),
        "db_to_records_to_validate_s": _median_s(
            lambda: validate_hierarchy(_records(session, plan.id)), rounds),
        "validate_only_s": _median_s(lambda: validate_hierarchy(records), rounds),
        "target_s": 1.0}


def _county_seeds(rng: np.random.Generator, outline: shapely.Polygon,
                  seeds2: np.ndarray) -> list[np.ndarray]:
    # level-3 seeds per level-2 grid in proportion to its area (at least two each)
    probe = rng.uniform(-COUNTY_RADIUS_M * 1.2, COUNTY_RADIUS_M * 1.2, size=(200_000, 2))
    probe = probe[shapely.contains_xy(outline, probe[:, 0], probe[:, 1])]
    share = np.bincount(st._nearest(probe, seeds2), minlength=len(seeds2)) / len(probe)
    counts = np.maximum(2, np.floor(share * N_LEVEL3)).astype(int)
    counts[np.argsort(-share)[: max(0, N_LEVEL3 - counts.sum())]] += 1
    out = []
    for i, k in enumerate(counts.tolist()):

        def in_grid(p: np.ndarray, i: int = i) -> np.ndarray:
            return st._nearest(p, seeds2) == i

        out.append(st._sorted_nw(st._sample(rng, outline, k, in_grid)))
    return out


def build_county(seed: int, spacing_m: float) -> list[GridRecord]:
    """A Baoying-sized county: level 1, 53 level-2, ~900 level-3 and 53 special grids."""
    rng = np.random.default_rng(seed)
    outline = shapely.affinity.scale(st._outline(rng), COUNTY_RADIUS_M / 4300.0,
                                     COUNTY_RADIUS_M / 4300.0, origin=(0, 0))
    seeds2 = st._sorted_nw(st._sample(rng, outline, N_LEVEL2, lambda p: np.ones(len(p), bool)))
    metric = st._nested_voronoi(outline, seeds2, _county_seeds(rng, outline, seeds2))
    edges = st._shared_edges([g for _, g in metric])
    st.DETAIL_SPACING = spacing_m  # the perturbation densifies to this spacing
    for attempt in range(4):
        prng = np.random.default_rng(seed + 1)
        try:
            level3 = st._polygonize_as([st._perturb(e, prng, 0.5**attempt) for e in edges],
                                       metric)
            break
        except st._Crossed:
            continue
    else:
        raise RuntimeError(f"seed {seed}: perturbed edges cross")
    records = []
    county = shapely.coverage_union_all([g for _, g in level3])
    records.append(GridRecord("T1", "县", "comprehensive", 1, None, county))
    for i in range(N_LEVEL2):
        code = f"T1-{i + 1:02d}"
        kids = [g for c, g in level3 if c.startswith(code + "-")]
        records.append(GridRecord(code, code, "comprehensive", 2, "T1",
                                  shapely.coverage_union_all(kids)))
    records += [GridRecord(c, c, "comprehensive", 3, c[:5], g) for c, g in level3]
    centres = st.to_lonlat(st._sample(rng, outline.buffer(-1500), N_SPECIAL,
                                      lambda p: np.ones(len(p), bool)))
    for k, (x, y) in enumerate(centres.tolist()):
        disc = shapely.Point(x, y).buffer(rng.uniform(300, 800) / 100_000, quad_segs=16)
        records.append(GridRecord(f"S-{k + 1:02d}", "专属", "education", None, "T1",
                                  shapely.intersection(disc, county)))
    return records


def _naive_overlaps(geoms: np.ndarray, pairs: np.ndarray) -> int:
    """The baseline: the intersection of each pair, no spatial index to skip far ones."""
    both = shapely.intersection(geoms[pairs[:, 0]], geoms[pairs[:, 1]])
    return int((shapely.area(both) > 0).sum())


def county_validation(seed: int, spacing_m: float, rounds: int,
                      profile: bool) -> dict[str, Any]:
    """(b): validate the synthetic county, and the all-pairs overlap baseline."""
    start = time.perf_counter()
    records = build_county(seed, spacing_m)
    built = time.perf_counter() - start
    level3 = [r.geometry for r in records if r.level == 3]
    problems = validate_hierarchy(records)
    took = _median_s(lambda: validate_hierarchy(records), rounds)
    rng = np.random.default_rng(seed)
    pairs = len(level3) * (len(level3) - 1) // 2
    sample = rng.choice(pairs, BASELINE_PAIRS, replace=False)
    i = np.triu_indices(len(level3), 1)
    chosen = np.column_stack([i[0][sample], i[1][sample]])
    geoms = np.array(level3, dtype=object)
    sub_s = _median_s(lambda: _naive_overlaps(geoms, chosen), 1)
    baseline = sub_s * pairs / BASELINE_PAIRS
    codes = [r.code for r in records if r.level == 3]
    indexed = _median_s(lambda: validation._overlaps(codes, geoms, 3), rounds)
    result = {
        "grids": len(records), "level2": N_LEVEL2, "level3": len(level3), "special": N_SPECIAL,
        "vertices": int(sum(shapely.get_num_coordinates(r.geometry) for r in records)),
        "vertex_spacing_m": spacing_m, "build_s": round(built, 1),
        "problems": len(problems), "validate_s": took, "target_s": 10.0,
        "baseline": f"level-3 overlaps as every pair's intersection, no STRtree: "
                    f"{BASELINE_PAIRS} random pairs timed, extrapolated to {pairs} pairs",
        "baseline_subset_s": sub_s, "baseline_extrapolated_s": round(baseline, 1),
        "validator_overlap_step_level3_s": indexed,
        "baseline_over_validator_overlap_step": round(baseline / indexed, 1),
        "baseline_over_whole_validation": round(baseline / took, 2)}
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(validate_hierarchy, records)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue(), file=sys.stderr)
    return result


def _crowd(session: Session, shape: Any, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    centre = shapely.point_on_surface(shape)
    xy = np.empty((0, 2))
    while len(xy) < n:
        cand = rng.normal([centre.x, centre.y], 0.002, (4 * n, 2))
        xy = np.vstack([xy, cand[shapely.contains_xy(shape, cand[:, 0], cand[:, 1])]])
    session.add_all(AddressPoint(address=f"bench-{k}", poi=None, attributes={},
                                 geom=from_shape(shapely.Point(x, y), srid=4490))
                    for k, (x, y) in enumerate(xy[:n].tolist()))
    session.commit()


def rebalances(session: Session, plan_id: int) -> dict[str, Any]:
    """(c): the whole demo town, and one crowded parent (service and core)."""
    out: dict[str, Any] = {}
    start = time.perf_counter()
    plan, summary = suggest_rebalance(session, plan_id=plan_id, owner="bench", band=BAND,
                                      now=datetime.now(UTC))
    session.commit()
    out["whole_town"] = {"s": round(time.perf_counter() - start, 2), **summary,
                         "problems_after": len(validate_hierarchy(_records(session, plan.id)))}
    grids = plan_grids(session, plan_id)
    first = next(g for g in grids if g.level == 3)
    parent = next(g for g in grids if g.code == first.parent_code)
    _crowd(session, shape_of(first), 1500, seed=3)
    # the demo's grids carry household counts, which the dwellings are scaled to: raise it too
    first.households = (first.households or 0) + 1500
    session.commit()
    start = time.perf_counter()
    plan, summary = suggest_rebalance(session, plan_id=plan_id, owner="bench", band=BAND,
                                      parents=[parent.code], now=datetime.now(UTC))
    session.commit()
    kids = [g for g in grids if g.parent_code == parent.code and g.level == 3]
    out["crowded_parent"] = {
        "parent": parent.code, "crowded_grid": first.code,
        "s": round(time.perf_counter() - start, 2), **summary,
        "households_before": {k.code: k.households for k in kids},
        "households_after": {g.code: g.households for g in plan_grids(session, plan.id)
                             if g.parent_code == parent.code and g.level == 3},
        "problems_after": len(validate_hierarchy(_records(session, plan.id)))}
    units = units_of(session, parent, kids)
    start = time.perf_counter()
    rebalance_parent(parent_code=parent.code, grids={k.code: shape_of(k) for k in kids},
                     xy=units.xy, weights=units.weight, band=BAND, seed=0)
    out["crowded_parent_core_only_s"] = round(time.perf_counter() - start, 2)
    out["crowded_parent_units"] = len(units.xy)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--county-seed", type=int, default=7)
    parser.add_argument("--spacing", type=float, default=10.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    results["county"] = county_validation(args.county_seed, args.spacing, args.rounds,
                                          args.profile)
    print(json.dumps({"county": results["county"]}, ensure_ascii=False), flush=True)
    with throwaway_database() as url:
        engine = migrations.migrated_engine(url)
        try:
            with sessionmaker(bind=engine)() as session:
                start = time.perf_counter()
                for _ in load_demo_town(session):
                    pass
                results["demo_load_s"] = round(time.perf_counter() - start, 1)
                plan_id, results["demo"] = demo_validation(session, args.rounds)
                results["rebalance"] = rebalances(session, plan_id)
        finally:
            engine.dispose()
    results["python"] = sys.version.split()[0]
    results["geos"] = shapely.geos_version_string
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
