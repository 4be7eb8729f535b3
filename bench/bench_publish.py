"""Publishing a county plan over 1,000,000 historical incidents, against re-locating them all.

    .venv/bin/python bench/bench_publish.py [--incidents 1000000] [--moved-share 1.0]
                                            [--json bench/out/publish.json]
                                            [--keep /tmp/publish-bench] [--no-baseline]

Starts a throw-away embedded PostGIS (or uses DATABASE_URL) and builds a synthetic county: a
0.32° square near Suzhou, 8 x 8 level-2 grids of 0.04°, each 4 x 4 level-3 grids of 0.01°
(1,024 level-3 grids, 1,089 in all), valid for two years; 50,000 address points; and
`--incidents` incidents of the last 360 days (0.2 % open), a `--moved-share` of them inside
the strips the plan moves, the rest anywhere in the county. The plan moves the shared edge of
26 pairs of neighbouring level-3 grids by 0.003° (52 grids, ~5 %). Measured:
  - metrics and impact of the plan;
  - publish with effective_from a year ago, policy keep (every incident in the moved strips is
    re-attributed, open ones get a history row), rolled back;
  - the baseline: the same publish re-locating every incident of the year against every
    current grid in one UPDATE (no changed-area restriction, no history rows), rolled back;
    then the publish again. `incident` is vacuumed after each rolled-back run.
`--keep DIR` keeps an embedded cluster in DIR between runs, one database per --incidents,
--moved-share and --seed, built once and reused (every publish is rolled back; the incidents
keep their build-time dates, so reuse it within days); the cluster is stopped afterwards
unless it was already running. `--no-baseline` skips the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import throwaway_database, write_json
from gis_service import migrations
from gis_service.embedded_pg import EmbeddedCluster
from gis_service.grids.models import GridVersion, LayerChange
from gis_service.plans import publish as publish_module
from gis_service.plans.drafts import as_record, as_stored, create_plan, plan_grids
from gis_service.plans.impact import PlanDiff, plan_impact
from gis_service.plans.metrics import plan_metrics
from gis_service.plans.models import PlanGrid
from grid_layers.validation import validate_hierarchy

X0, Y0, CELL, BLOCK, SIDE = 120.30, 30.70, 0.01, 4, 32  # SIDE level-3 cells per side
SHIFT = 0.003  # how far a moved edge moves east
PAIRS = 26
INCIDENTS_SQL = text("""
INSERT INTO incident (source, category_code, description, lon, lat, geom, reported_at, status,
    priority, town_code, grid2_code, grid3_code, zone_codes, special_codes, assignee_type,
    assignee_code, cooperating, escalation_level, history_head, history_length, version,
    created_at, updated_at)
SELECT 'bench', 'GARBAGE', '', x, y, ST_SetSRID(ST_MakePoint(x, y), 4490), at,
       CASE WHEN n % 500 = 0 THEN 'dispatched' ELSE 'closed' END, 0, 'C',
       format('C-%s%s', lpad((r / 4)::text, 2, '0'), lpad((c / 4)::text, 2, '0')),
       format('C-%s%s-%s%s', lpad((r / 4)::text, 2, '0'), lpad((c / 4)::text, 2, '0'),
              r % 4, c % 4),
       '{}', '{}', 'town', 'C', '{}', 0, '', 0, 1, at, at
FROM (
    SELECT n, x, y, floor((x - :x0) / :cell)::int AS c, floor((y - :y0) / :cell)::int AS r,
           now() - random() * interval '360 days' AS at
    FROM (
        SELECT n,
               CASE WHEN k < 0 THEN :x0 + u * :side
                    ELSE (CAST(:sx AS float8[]))[k + 1] + u * :shift END AS x,
               CASE WHEN k < 0 THEN :y0 + v * :side
                    ELSE (CAST(:sy AS float8[]))[k + 1] + v * :cell END AS y
        FROM (
            SELECT n, random() AS u, random() AS v,
                   CASE WHEN random() < :share THEN floor(random() * :strips)::int
                        ELSE -1 END AS k
            FROM generate_series(1, :n) AS n
        ) AS draws
    ) AS points
) AS placed
ORDER BY at""")
# The obvious baseline: every incident of the period re-located against every current grid.
RELOCATE_ALL = text("""
WITH placed AS (
    SELECT i.id,
           min(g.code) FILTER (WHERE g.level = 1) AS town,
           min(g.code) FILTER (WHERE g.level = 2) AS grid2,
           min(g.code) FILTER (WHERE g.level = 3) AS grid3,
           coalesce(array_agg(g.code ORDER BY g.code) FILTER (WHERE g.level IS NULL),
                    '{}')::varchar(64)[] AS special
    FROM incident AS i
    LEFT JOIN grid_version AS g ON g.valid_to IS NULL AND ST_Covers(g.geom, i.geom)
    WHERE i.reported_at >= :since AND i.geom IS NOT NULL
    GROUP BY i.id
), moved AS (
    UPDATE incident AS i
    SET town_code = p.town, grid2_code = p.grid2, grid3_code = p.grid3,
        special_codes = p.special
    FROM placed AS p
    WHERE i.id = p.id
      AND (i.town_code IS DISTINCT FROM p.town OR i.grid2_code IS DISTINCT FROM p.grid2
           OR i.grid3_code IS DISTINCT FROM p.grid3 OR i.special_codes IS DISTINCT FROM p.special)
    RETURNING i.id
)
SELECT count(*) FROM moved""")
ADDRESSES_SQL = text("""
INSERT INTO address_point (address, poi, attributes, geom)
SELECT '县' || n || '号', CASE WHEN n % 40 = 0 THEN '某某公司' END, '{}',
       ST_SetSRID(ST_MakePoint(:x0 + random() * :side, :y0 + random() * :side), 4490)
FROM generate_series(1, :n) AS n""")


def code3(row: int, col: int) -> str:
    """A level-3 grid's code from its row and column of cells."""
    return f"C-{row // BLOCK:02d}{col // BLOCK:02d}-{row % BLOCK}{col % BLOCK}"


def cell(row: int, col: int) -> shapely.Polygon:
    """A level-3 cell."""
    return shapely.box(X0 + col * CELL, Y0 + row * CELL, X0 + (col + 1) * CELL,
                       Y0 + (row + 1) * CELL)


Grids = list[tuple[str, str | None, shapely.Geometry]]


def county() -> dict[int, Grids]:
    """(code, parent, shape) per level; parents are coverage unions of their children, so
    they carry every child corner as a vertex."""
    level3: Grids = [(code3(r, c), code3(r, c)[:6], cell(r, c))
                     for r in range(SIDE) for c in range(SIDE)]
    blocks: dict[str, list[shapely.Geometry]] = {}
    for _, parent, shape in level3:
        blocks.setdefault(parent or "", []).append(shape)
    level2: Grids = [(code, "C", shapely.coverage_union_all(shapes))
                     for code, shapes in sorted(blocks.items())]
    level1: Grids = [("C", None, shapely.coverage_union_all([s for _, _, s in level2]))]
    return {1: level1, 2: level2, 3: level3}


def moved_pairs(seed: int) -> list[tuple[int, int]]:
    """(row, col) of the west grid of each pair whose shared edge moves (both in one block)."""
    rng = np.random.default_rng(seed)
    cells = [(r, c) for r in range(SIDE) for c in range(SIDE) if c % BLOCK < BLOCK - 1]
    chosen: list[tuple[int, int]] = []
    used: set[tuple[int, int]] = set()
    for index in rng.permutation(len(cells)):
        r, c = cells[int(index)]
        if {(r, c), (r, c + 1)} & used:
            continue
        chosen.append((r, c))
        used |= {(r, c), (r, c + 1)}
        if len(chosen) == PAIRS:
            break
    return chosen


def build(session: Session, incidents: int, share: float, pairs: list[tuple[int, int]],
          since: datetime) -> dict[str, float]:
    """The county, its address points and incidents; seconds per step."""
    took: dict[str, float] = {}
    start = time.perf_counter()
    for level, grids in county().items():
        for code, parent, shape in grids:
            session.add(GridVersion(
                code=code, version=1, name=code, level=level, kind="comprehensive",
                parent_code=parent, households=400, population=1100, attributes={},
                geom=from_shape(shapely.MultiPolygon([shape]) if shape.geom_type == "Polygon"
                                else shape, srid=4490),
                valid_from=since, source="bench"))
    session.add(LayerChange(kind="grids", source="bench"))
    session.commit()
    took["grids s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    session.execute(ADDRESSES_SQL, {"n": 50_000, "x0": X0, "y0": Y0, "side": SIDE * CELL})
    strips_x = [X0 + (c + 1) * CELL for _, c in pairs]
    strips_y = [Y0 + r * CELL for r, _ in pairs]
    session.execute(INCIDENTS_SQL, {
        "n": incidents, "x0": X0, "y0": Y0, "cell": CELL, "side": SIDE * CELL, "shift": SHIFT,
        "share": share, "strips": len(pairs), "sx": strips_x, "sy": strips_y})
    session.commit()
    took["points s"] = round(time.perf_counter() - start, 1)
    return took


@contextmanager
def kept_database(home: Path, name: str) -> Iterator[str]:
    """A database `name` in a cluster kept at `home` (started if need be, and stopped
    afterwards unless it was already running); created when missing."""
    cluster = EmbeddedCluster(home, durable=False)
    was_running = cluster.is_running()
    cluster.start()
    try:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if connection.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                                 {"n": name}) == 0:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        yield make_url(cluster.url()).set(database=name).render_as_string(hide_password=False)
    finally:
        if not was_running:
            cluster.stop()


def is_built(session: Session, incidents: int) -> bool:
    """True when the database already holds the county and its incidents."""
    grids = session.scalar(text("SELECT count(*) FROM grid_version WHERE source = 'bench'"))
    stored = session.scalar(text("SELECT count(*) FROM incident"))
    return grids == 1 + 64 + SIDE * SIDE and stored == incidents


def make_plan(session: Session, pairs: list[tuple[int, int]]) -> int:
    """A draft moving each pair's shared edge east by SHIFT."""
    plan = create_plan(session, owner="bench", name="county plan")
    grids = {g.code: g for g in session.scalars(select(PlanGrid)
                                                .where(PlanGrid.plan_id == plan.id))}
    for r, c in pairs:
        edge = X0 + (c + 1) * CELL + SHIFT
        west, east = cell(r, c), cell(r, c + 1)
        grids[code3(r, c)].geom = as_stored(shapely.box(west.bounds[0], west.bounds[1], edge,
                                                         west.bounds[3]))
        grids[code3(r, c + 1)].geom = as_stored(shapely.box(edge, east.bounds[1],
                                                            east.bounds[2], east.bounds[3]))
    session.commit()
    return plan.id


def timed(step: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds a step takes, and its result."""
    start = time.perf_counter()
    result = step()
    return round(time.perf_counter() - start, 2), result


def publish_once(session: Session, plan_id: int, effective: datetime) -> tuple[float, Any]:
    """One publish, rolled back; seconds and its summary."""
    seconds, made = timed(lambda: publish_module.publish_plan(
        session, plan_id=plan_id, actor="bench", effective_from=effective, policy="keep",
        expected_version=1, now=datetime.now(UTC)))
    summary = dict(made.summary)
    summary.pop("grids", None)
    session.rollback()
    # the next run should not pay for this one's million dead rows (autovacuum would clear
    # them between two real publications)
    engine = session.get_bind().engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("incident", "incident_cell_delta"):
            connection.execute(text(f"VACUUM {table}"))
    return seconds, summary


def baseline(session: Session, plan_id: int, effective: datetime) -> dict[str, Any]:
    """The same publish re-locating every incident of the period, rolled back."""
    original = publish_module._reattribute

    def everywhere(session: Session, diff: PlanDiff, effective_from: datetime,
                   *, open_too: bool, outer_touched: bool) -> tuple[int, list[dict[str, Any]]]:
        changed = session.execute(RELOCATE_ALL, {"since": effective_from}).scalar()
        return int(changed or 0), []

    publish_module._reattribute = everywhere
    try:
        seconds, summary = publish_once(session, plan_id, effective)
    finally:
        publish_module._reattribute = original
    return {"baseline s (re-locate every incident)": seconds, "baseline summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--moved-share", type=float, default=1.0,
                        help="share of incidents placed inside the moved strips")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path,
                        help="a cluster folder kept between runs; the built county is reused")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    now = datetime.now(UTC)
    pairs = moved_pairs(args.seed)
    results: dict[str, Any] = {"incidents": args.incidents, "moved_share": args.moved_share,
                               "grids": 1 + 64 + SIDE * SIDE, "changed_grids": 2 * len(pairs)}
    name = f"publish_{args.incidents}_{args.moved_share:g}_{args.seed}".replace(".", "_")
    database = kept_database(args.keep, name) if args.keep else throwaway_database()
    with database as url:
        engine = migrations.migrated_engine(url)
        factory = sessionmaker(bind=engine)
        with factory() as session:
            reused = args.keep is not None and is_built(session, args.incidents)
            if not reused and session.scalar(text("SELECT count(*) FROM grid_version")):
                raise SystemExit(f"{name} holds a partial county: remove {args.keep}")
            results["build"] = "reused" if reused else build(
                session, args.incidents, args.moved_share, pairs, now - timedelta(days=730))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("incident", "address_point", "grid_version"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
        with factory() as session:
            plan_id = make_plan(session, pairs)
            results["metrics s"], _ = timed(lambda: plan_metrics(
                session, plan_id=plan_id, band=(300, 500), now=now))
            results["impact s"], found = timed(lambda: plan_impact(
                session, plan_id=plan_id, at=now))
            results["impact totals"] = found["totals"]
            results["validation s"], _ = timed(lambda: validate_hierarchy(
                [as_record(g) for g in plan_grids(session, plan_id)]))
            session.rollback()
            effective = now - timedelta(days=365)
            results["publish s"], results["publish summary"] = publish_once(
                session, plan_id, effective)
            if not args.no_baseline:
                results.update(baseline(session, plan_id, effective))
            results["publish again s"], _ = publish_once(session, plan_id, effective)
        engine.dispose()
    best = min(results["publish s"], results["publish again s"])
    if not args.no_baseline:
        results["baseline / publish"] = round(results["baseline s (re-locate every incident)"]
                                              / best, 1)
    print(results, flush=True)
    write_json(results, args.json)


if __name__ == "__main__":
    main()
