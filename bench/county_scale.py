"""A synthetic county of `towns` towns (15 by default: 1 + 15 + 270 + 960 grids) loaded through
the project's own importers, and n incidents over the last five years spread over it.

The county is a lattice: a county of towns of 8 x 8 quadrilateral level-3 grids (~1.1 km a
side), five towns to a row, near Wujiang (lon 120.35, lat 30.85 at its south-west corner).
Every lattice vertex but the lattice's four corners is moved by up to 15 % of the spacing, so the
grids are irregular quadrilaterals, yet convex: a point drawn bilinearly inside a grid's four
corners lies inside the grid. Level-2 grids are runs of 3 or 4 level-3 grids along a serpentine
path through the town (18 a town), so each is contiguous; towns and the county are the unions
of their grids, so every level is an exact partition (shared vertices are the same numbers)
and the grid importer validates the whole county as it would a real one. Everything is named
合成 ("synthetic"): 合成01镇, its districts, departments, workers, accounts.

`load_county` writes the documented import files (grids, districts, departments, workers,
responsibilities, then one "seed" incident per town and category) to a temp dir and imports
them with `run_import`, the CLI's call; then the county center's and each town's accounts
(password `demo`). The seeds are located and routed by the importer: a copy of a seed, moved
to another level-3 grid of its town, is routed as the seed was (its grid's worker in place of
the seed's when a grid worker handles it), so the fill needs no routing of its own.

`FILL` makes n incidents in one INSERT … SELECT: each a random level-3 grid of the county
(uniform), a point drawn inside it, a description and category drawn from the demo's incidents
(data/demo/ and data/county/, so `q=积水` finds what it finds in the demo), a time uniform over
the last five years, statuses, resolutions and satisfaction as bench_reports.py's fill (older
than ten days closed; the rest spread over the open states and closed), deadlines as the
seed's; bench_reports.py's HISTORY then writes their history (returns 1 in 33, escalations 1
in 50). At 5,000,000 that leaves ~23,000 open (2,740 a day over ten days, 5/6 open).
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.bench_incident_import import write_csv
from bench.bench_reports import HISTORY
from gis_service import migrations
from gis_service.auth.accounts import create_account
from gis_service.auth.schemas import AccountCreate
from gis_service.demo import DEMO_PASSWORD
from gis_service.imports.service import run_import

DATA = Path(__file__).resolve().parent.parent / "data"
COUNTY = "SYN"
COUNTY_NAME = "合成县（演示，合成数据）"
SIDE = 8  # level-3 grids along a town's side: 64 a town
LEVEL2_SIZES = (4, 3) * 8 + (4, 4)  # 18 level-2 grids of 3 or 4 level-3 grids: 64
TOWNS_PER_ROW = 5
SPACING_M = 1100.0
JITTER = 0.15  # of the spacing, each axis: the quadrilaterals stay convex
LON0, LAT0 = 120.35, 30.85
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))
YEARS_DAYS = 1826  # five years
SEED_SOURCE, SEED_PREFIX = "walk_in", "SYN-SEED-"
# county departments (code suffix, name) and each town's own (suffix, name)
COUNTY_DEPARTMENTS = (("CGJ", "城管局"), ("STJ", "生态环境局"), ("ZJJ", "住房和城乡建设局"),
                      ("SWJ", "水务局"), ("GAJ", "公安分局"), ("SJJ", "市场监督管理局"),
                      ("NYJ", "农业农村局"), ("YJJ", "应急管理局"), ("ZRJ", "自然资源和规划局"),
                      ("JTJ", "交通运输局"))
TOWN_DEPARTMENTS = (("JD", "集成指挥中心"), ("ZF", "综合执法局"), ("JS", "建设管理办"),
                    ("SL", "水利站"))


@dataclass(frozen=True)
class Cell:
    """A level-3 grid: its codes up the hierarchy and its four corners (lon/lat, in ring
    order: south-west, south-east, north-east, north-west)."""

    town: str
    grid2: str
    grid3: str
    corners: tuple[tuple[float, float], ...]

    def polygon(self) -> shapely.Polygon:
        """The grid's outline."""
        return shapely.Polygon(self.corners)


def town_code(number: int) -> str:
    """SYN01, SYN02, …"""
    return f"{COUNTY}{number:02d}"


def town_name(number: int) -> str:
    """合成01镇, 合成02镇, …"""
    return f"合成{number:02d}镇"


def _serpentine() -> list[tuple[int, int]]:
    """(row, column) of a town's level-3 grids in a path where each is next to the one before."""
    return [(r, c if r % 2 == 0 else SIDE - 1 - c) for r in range(SIDE) for c in range(SIDE)]


def lattice(towns: int, seed: int) -> np.ndarray:
    """The county's lattice vertices in lon/lat, shape (rows + 1, columns + 1, 2), rounded to
    7 decimals (~1 cm) once, so that every grid built from them shares exact vertices."""
    rows = -(-towns // TOWNS_PER_ROW) * SIDE
    columns = min(towns, TOWNS_PER_ROW) * SIDE
    rng = np.random.default_rng(seed)
    jy, jx = (rng.uniform(-JITTER, JITTER, (rows + 1, columns + 1)) for _ in range(2))
    for corner in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        jy[corner] = jx[corner] = 0.0
    y, x = np.meshgrid(np.arange(rows + 1, dtype=float), np.arange(columns + 1, dtype=float),
                       indexing="ij")
    lon = LON0 + (x + jx) * SPACING_M / M_PER_DEG_LON
    lat = LAT0 + (y + jy) * SPACING_M / M_PER_DEG_LAT
    return np.round(np.stack([lon, lat], axis=-1), 7)


def county_cells(towns: int, seed: int = 20261208) -> list[Cell]:
    """Every level-3 grid of the county, town by town, in code order."""
    points = lattice(towns, seed)
    cells = []
    path = _serpentine()
    for number in range(1, towns + 1):
        row0 = (number - 1) // TOWNS_PER_ROW * SIDE
        col0 = (number - 1) % TOWNS_PER_ROW * SIDE
        start = 0
        for k, size in enumerate(LEVEL2_SIZES, start=1):
            grid2 = f"{town_code(number)}-{k:02d}"
            for j, (r, c) in enumerate(path[start:start + size], start=1):
                y, x = row0 + SIDE - 1 - r, col0 + c  # rows numbered north to south
                ring = (points[y, x], points[y, x + 1], points[y + 1, x + 1], points[y + 1, x])
                cells.append(Cell(town_code(number), grid2, f"{grid2}-{j:02d}",
                                  tuple((float(p[0]), float(p[1])) for p in ring)))
            start += size
    return cells


def _feature(geometry: BaseGeometry, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def grid_features(towns: int, cells: list[Cell]) -> list[dict[str, Any]]:
    """The county, its towns, level-2 and level-3 grids as GeoJSON features."""
    polygons = {c.grid3: c.polygon() for c in cells}
    features = []
    by_town: dict[str, list[BaseGeometry]] = {}
    for number in range(1, towns + 1):
        code = town_code(number)
        mine = [c for c in cells if c.town == code]
        for grid2 in dict.fromkeys(c.grid2 for c in mine):
            kids = [c for c in mine if c.grid2 == grid2]
            features.append(_feature(
                shapely.coverage_union_all([polygons[c.grid3] for c in kids]), code=grid2,
                name=f"{town_name(number)}{grid2[-2:]}村（合成）", kind="comprehensive", level=2,
                parent_code=code))
            features += [_feature(polygons[c.grid3], code=c.grid3,
                                  name=f"{town_name(number)}{grid2[-2:]}村{c.grid3[-2:]}网格",
                                  kind="comprehensive", level=3, parent_code=grid2)
                         for c in kids]
        by_town[code] = [polygons[c.grid3] for c in mine]
    outlines = {code: shapely.coverage_union_all(parts) for code, parts in by_town.items()}
    county = shapely.coverage_union_all(list(outlines.values()))
    head = [_feature(county, code=COUNTY, name=COUNTY_NAME, kind="comprehensive", level=0,
                     parent_code=None)]
    head += [_feature(outline, code=code, name=town_name(int(code[-2:])), kind="comprehensive",
                      level=1, parent_code=COUNTY) for code, outline in outlines.items()]
    return head + features


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _county_duties() -> list[dict[str, str]]:
    """The demo county's county-wide rows of the responsibility list."""
    with (DATA / "county" / "responsibilities.csv").open(encoding="utf-8", newline="") as h:
        return [row for row in csv.DictReader(h) if not row.get("town_code")]


def _county_department(code: str) -> str:
    return f"{COUNTY}-{code.split('-', 1)[1]}" if code.startswith("WJ-") else code


def responsibility_rows(towns: int) -> list[tuple[str, ...]]:
    """The county-wide rows (the demo county's, with this county's departments), and each
    town's overrides: roads and sewage to its own departments, floods with its water station."""
    rows: list[tuple[str, ...]] = []
    duties = _county_duties()
    for row in duties:
        cooperating = ";".join(_county_department(c) for c in row["cooperating"].split(";") if c)
        rows.append((row["category_code"], row["category_name"], row["handler"],
                     _county_department(row["department_code"]), cooperating,
                     row["respond_hours"], row["resolve_hours"], ""))
    names = {row["category_code"]: row["category_name"] for row in duties}
    for number in range(1, towns + 1):
        code = town_code(number)
        rows += [("ROAD-DAMAGE", names["ROAD-DAMAGE"], "department", f"{code}-JS", "", "8",
                  "120", code),
                 ("SEWAGE", names["SEWAGE"], "department", f"{code}-SL", f"{COUNTY}-SWJ", "2",
                  "24", code),
                 ("FLOOD", names["FLOOD"], "town", "", f"{code}-SL;{COUNTY}-SWJ", "0.5", "6",
                  code)]
    return rows


def department_rows(towns: int) -> list[tuple[str, ...]]:
    """The county's departments (the demo county's bureaus) and four of each town's own."""
    rows: list[tuple[str, ...]] = [(f"{COUNTY}-{code}", f"合成县{name}", "county", "")
                                   for code, name in
            COUNTY_DEPARTMENTS]
    for number in range(1, towns + 1):
        code = town_code(number)
        rows += [(f"{code}-{suffix}", f"{town_name(number)}{name}", "town", code)
                 for suffix, name in TOWN_DEPARTMENTS]
    return rows


def worker_rows(towns: int, cells: list[Cell]) -> list[tuple[str, ...]]:
    """A grid worker per level-3 grid (the B post: the next grid's worker in its level-2 grid),
    a squad of three per district, a dispatcher and a staff member per town department."""
    rows: list[tuple[str, ...]] = []
    for grid2 in dict.fromkeys(c.grid2 for c in cells):
        kids = [c.grid3 for c in cells if c.grid2 == grid2]
        for i, grid3 in enumerate(kids):
            backup = kids[(i + 1) % len(kids)]
            rows.append((f"GW-{grid3}", f"合成网格员{grid3}", "grid_worker", grid3, "", "",
                         f"GW-{backup}", "yes"))
    for number in range(1, towns + 1):
        code = town_code(number)
        squad = [f"{code}-SQ-{i}" for i in range(3)]
        rows += [(member, f"合成队员{member}", "squad_leader" if i == 0 else "squad_member", "",
                  f"{code}-ZF1", "", squad[(i + 1) % 3], "yes")
                 for i, member in enumerate(squad)]
        rows.append((f"DP-{code}", f"合成调度员{code}", "dispatcher", "", "", f"{code}-JD", "",
                     "yes"))
        rows += [(f"DS-{code}-{suffix}", f"合成科员{code}-{suffix}", "department_staff", "", "",
                  f"{code}-{suffix}", "", "yes") for suffix, _ in TOWN_DEPARTMENTS[1:]]
    return rows


def seed_rows(towns: int, cells: list[Cell], categories: list[str]) -> list[tuple[Any, ...]]:
    """One closed incident per town and category, at the middle of one of the town's level-3
    grids, a few weeks old: the importer routes it; the fill copies its routing."""
    rows = []
    now = datetime.now(UTC).replace(microsecond=0)
    for number in range(1, towns + 1):
        mine = [c for c in cells if c.town == town_code(number)]
        for k, category in enumerate(categories):
            cell = mine[(k * 7) % len(mine)]
            x, y = cell.polygon().centroid.coords[0]
            at = now - timedelta(days=30 + k, hours=number)
            rows.append((SEED_SOURCE, f"{SEED_PREFIX}{town_code(number)}-{category}", category,
                         f"合成种子事件（{town_name(number)}）", "", f"{x:.7f}", f"{y:.7f}",
                         "cgcs2000", at.isoformat(), "", "",
                         (at + timedelta(hours=20)).isoformat(), "service", "", ""))
    return rows


INCIDENT_HEADER = ("source", "external_id", "category", "description", "address", "lon", "lat",
                   "crs", "reported_at", "parent_ticket_id", "county_due_at", "closed_at",
                   "resolution", "satisfaction", "reporter")


def write_files(folder: Path, towns: int, cells: list[Cell]) -> list[tuple[str, Path]]:
    """The county's import files, in import order, as (kind, path)."""
    outlines = {f["properties"]["code"]: f["geometry"] for f in grid_features(towns, cells)
                if f["properties"]["level"] == 1}
    districts = [{"type": "Feature", "geometry": outlines[town_code(n)], "properties": {
        "code": f"{town_code(n)}-ZF1", "name": f"{town_name(n)}执法片区",
        "squad_code": f"{town_code(n)}-SQ", "squad_name": f"{town_name(n)}综合执法中队"}}
        for n in range(1, towns + 1)]
    responsibilities = responsibility_rows(towns)
    categories = list(dict.fromkeys(row[0] for row in responsibilities))
    return [
        ("grids", _write_geojson(folder / "grids.geojson", grid_features(towns, cells))),
        ("districts", _write_geojson(folder / "districts.geojson", districts)),
        ("departments", write_csv(folder / "departments.csv",
                                   ("code", "name", "tier", "town_code"), department_rows(towns))),
        ("workers", write_csv(folder / "workers.csv", (
            "code", "name", "role", "grid_code", "district_code", "department_code",
            "backup_code", "on_duty"), worker_rows(towns, cells))),
        ("responsibilities", write_csv(folder / "responsibilities.csv", (
            "category_code", "category_name", "handler", "department_code", "cooperating",
            "respond_hours", "resolve_hours", "town_code"), responsibilities)),
        ("incidents", write_csv(folder / "incidents.csv", INCIDENT_HEADER,
                                 seed_rows(towns, cells, categories))),
    ]


def _accounts(session: Session, towns: int) -> Iterator[str]:
    """The county center (dispatcher, commander, planner) and each town's center."""
    wanted = [("county", "dispatcher", COUNTY), ("county_commander", "commander", COUNTY),
              ("county_planner", "planner", COUNTY)]
    wanted += [(town_code(n).lower(), "dispatcher", town_code(n)) for n in range(1, towns + 1)]
    for username, role, scope in wanted:
        # the demo's documented password, as load-demo gives its accounts
        create_account(session, AccountCreate(username=username, role=role, scope_code=scope,
                                              password=DEMO_PASSWORD), password_policy=False)
    yield (f"accounts: county, county_commander, county_planner, {town_code(1).lower()}…"
           f"{town_code(towns).lower()} (password {DEMO_PASSWORD!r})")


def load_county(session: Session, towns: int, cells: list[Cell]) -> Iterator[str]:
    """Import the county's files through `run_import` (each committed), then its accounts."""
    with tempfile.TemporaryDirectory(prefix="gis-county-") as scratch:
        for kind, path in write_files(Path(scratch), towns, cells):
            if kind == "incidents":
                yield from _accounts(session, towns)
            start = time.perf_counter()
            report = run_import(session, kind, path, crs="cgcs2000")
            lines = list(report.lines())
            if not report.accepted:
                raise RuntimeError(f"the synthetic county's {kind} were rejected:\n"
                                   + "\n".join(lines[:40]))
            session.commit()
            took = time.perf_counter() - start
            yield f"{kind}: {lines[0] if lines else 'imported'} ({took:.1f} s)"


def vocabulary() -> tuple[list[str], list[str]]:
    """(category, description) of every incident of the demo town and county, as arrays."""
    categories, descriptions = [], []
    for path in (DATA / "demo" / "incidents.csv", DATA / "county" / "incidents.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["category"] and row["description"]:
                    categories.append(row["category"])
                    descriptions.append(row["description"])
    return categories, descriptions


STAGE = (
    text("""CREATE TEMP TABLE syn_cell ON COMMIT DROP AS
        SELECT row_number() OVER () AS n, t.*, NULL::varchar AS worker
        FROM unnest(CAST(:town AS text[]), CAST(:grid2 AS text[]), CAST(:grid3 AS text[]),
                    CAST(:x1 AS float8[]), CAST(:x2 AS float8[]), CAST(:x3 AS float8[]),
                    CAST(:x4 AS float8[]), CAST(:y1 AS float8[]), CAST(:y2 AS float8[]),
                    CAST(:y3 AS float8[]), CAST(:y4 AS float8[]))
            AS t(town, grid2, grid3, x1, x2, x3, x4, y1, y2, y3, y4)"""),
    text("""UPDATE syn_cell AS c SET worker = (
        SELECT w.code FROM worker AS w WHERE w.role = 'grid_worker' AND w.grid_code = c.grid3
        AND w.on_duty ORDER BY w.code LIMIT 1)"""),
    text("""CREATE TEMP TABLE syn_word ON COMMIT DROP AS
        SELECT row_number() OVER () AS n, t.*
        FROM unnest(CAST(:category AS text[]), CAST(:description AS text[]))
            AS t(category_code, description)"""),
    text("""CREATE TEMP TABLE syn_seed ON COMMIT DROP AS
        SELECT DISTINCT ON (town_code, category_code) * FROM incident
        WHERE source = :source AND external_id LIKE :prefix AND assignee_type IS NOT NULL
        ORDER BY town_code, category_code, id"""),
    text("ANALYZE syn_cell; ANALYZE syn_word; ANALYZE syn_seed"),
)
# x1…x4, y1…y4: the corners (south-west, south-east, north-east, north-west); a point at
# (u, v) in [0.03, 0.97]², bilinearly between them, lies inside the (convex) quadrilateral
FILL = text("""
INSERT INTO incident (source, external_id, category_code, description, lon, lat, geom,
    reported_at, status, priority, town_code, grid2_code, grid3_code, district_code,
    zone_codes, special_codes, assignee_type, assignee_code, cooperating, respond_due_at,
    due_at, resolution, satisfaction, history_head, version, created_at, updated_at)
SELECT 'bench', 'S-' || m.k, m.category_code, m.description, m.px, m.py,
       ST_SetSRID(ST_MakePoint(m.px, m.py), 4490), m.at, m.state, s.priority, m.town,
       m.grid2, m.grid3, s.district_code, s.zone_codes, s.special_codes, s.assignee_type,
       CASE WHEN s.assignee_type = 'grid_worker' THEN coalesce(m.worker, s.assignee_code)
            ELSE s.assignee_code END,
       s.cooperating,
       m.at + coalesce(s.respond_due_at - s.reported_at, interval '2 hours'),
       m.at + coalesce(s.due_at - s.reported_at, interval '24 hours'),
       CASE WHEN m.state = 'closed' THEN CASE WHEN m.r < 0.7 THEN 'service'
            WHEN m.r < 0.9 THEN 'management' ELSE 'enforcement' END END,
       CASE WHEN m.state = 'closed' AND m.r2 < 0.5 THEN 1 + floor(m.r2 * 10)::int END,
       '', 1, m.at, m.at
FROM (
    SELECT d.*, c.town, c.grid2, c.grid3, c.worker, w.category_code, w.description,
           (1 - d.u) * (1 - d.v) * c.x1 + d.u * (1 - d.v) * c.x2 + d.u * d.v * c.x3
               + (1 - d.u) * d.v * c.x4 AS px,
           (1 - d.u) * (1 - d.v) * c.y1 + d.u * (1 - d.v) * c.y2 + d.u * d.v * c.y3
               + (1 - d.u) * d.v * c.y4 AS py,
           CASE WHEN d.at < now() - interval '10 days' THEN 'closed'
                ELSE (ARRAY['dispatched', 'accepted', 'in_progress', 'resolved', 'verified',
                            'closed'])[1 + floor(d.pick * 6)::int] END AS state
    FROM (SELECT k, 1 + floor(random() * :cells)::bigint AS cell,
                 1 + floor(random() * :words)::bigint AS word,
                 0.03 + 0.94 * random() AS u, 0.03 + 0.94 * random() AS v,
                 now() - random() * make_interval(days => :days) AS at, random() AS pick,
                 random() AS r, random() AS r2
          FROM generate_series(1, :n) AS k) AS d
    JOIN syn_cell AS c ON c.n = d.cell
    JOIN syn_word AS w ON w.n = d.word
) AS m
JOIN syn_seed AS s ON s.town_code = m.town AND s.category_code = m.category_code
ORDER BY m.at""")
# points whose stored grid codes are not the grids that cover them (a sample at scale)
CHECK = text("""
SELECT count(*) AS checked,
       count(*) FILTER (WHERE NOT ST_Covers(g.geom, i.geom)) AS outside_grid3,
       count(*) FILTER (WHERE g.parent_code <> i.grid2_code) AS wrong_grid2
FROM (SELECT * FROM incident WHERE source = 'bench' ORDER BY id LIMIT :sample) AS i
JOIN grid_version AS g ON g.code = i.grid3_code AND g.valid_to IS NULL""")


def _stage(session: Session, cells: list[Cell]) -> dict[str, int]:
    """The temp tables the fill draws from (they go with the transaction)."""
    categories, descriptions = vocabulary()
    params: dict[str, list[Any]] = {"town": [c.town for c in cells],
                                    "grid2": [c.grid2 for c in cells],
                                    "grid3": [c.grid3 for c in cells]}
    for k in range(4):
        params[f"x{k + 1}"] = [c.corners[k][0] for c in cells]
        params[f"y{k + 1}"] = [c.corners[k][1] for c in cells]
    session.execute(STAGE[0], params)
    session.execute(STAGE[1])
    session.execute(STAGE[2], {"category": categories, "description": descriptions})
    session.execute(STAGE[3], {"source": SEED_SOURCE, "prefix": f"{SEED_PREFIX}%"})
    session.execute(STAGE[4])
    seeds = session.scalar(text("SELECT count(*) FROM syn_seed")) or 0
    wanted = session.scalar(text("SELECT count(DISTINCT category_code) FROM syn_word")) or 0
    towns = len({c.town for c in cells})
    if seeds < towns * wanted:
        raise RuntimeError(f"only {seeds} routed seeds for {towns} towns x {wanted} categories")
    return {"cells": len(cells), "words": len(categories), "seeds": seeds}


def build(url: str, n: int, towns: int = 15) -> tuple[sessionmaker[Session], dict[str, Any]]:
    """The synthetic county plus n incidents with history, analysed; seconds per step."""
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    took: dict[str, Any] = {"towns": towns}
    cells = county_cells(towns)
    took["level-3 grids"] = len(cells)
    with factory() as session:
        start = time.perf_counter()
        for line in load_county(session, towns, cells):
            print(line, flush=True)
        took["county import s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        staged = _stage(session, cells)
        took["staging s"] = round(time.perf_counter() - start, 1)
        print(f"staged {staged} in {took['staging s']} s", flush=True)
        start = time.perf_counter()
        session.execute(FILL, {"n": n, "cells": staged["cells"], "words": staged["words"],
                               "days": YEARS_DAYS})
        session.commit()
        took["incident fill s (one INSERT)"] = round(time.perf_counter() - start, 1)
        print(f"incident fill: {took['incident fill s (one INSERT)']} s", flush=True)
        start = time.perf_counter()
        session.execute(HISTORY)
        session.commit()
        took["history fill s"] = round(time.perf_counter() - start, 1)
        print(f"history fill: {took['history fill s']} s", flush=True)
        for table in ("incident", "incident_event"):
            took[f"{table} rows"] = session.scalar(text(f"SELECT count(*) FROM {table}"))
        took["open incidents"] = session.scalar(text(
            "SELECT count(*) FROM incident WHERE status NOT IN ('closed', 'rejected')"))
    start = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("incident", "incident_event"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    took["vacuum analyze s"] = round(time.perf_counter() - start, 1)
    with factory() as session:
        start = time.perf_counter()
        row = session.execute(CHECK, {"sample": 100_000}).one()
        took["geometry check (first 100,000)"] = {
            "checked": row.checked, "outside their grid3": row.outside_grid3,
            "grid2 not the grid3's parent": row.wrong_grid2,
            "s": round(time.perf_counter() - start, 1)}
    print(took, flush=True)
    return factory, took
