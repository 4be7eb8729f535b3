"""Build the demo county into data/county/: the same seed gives byte-identical files.

    .venv/bin/python data/build_demo_county.py [--seed 20261128] [--out data/county]

The county 吴江区（演示） is 七都镇（演示） (read from data/demo/, unchanged) and three neighbour
towns cut from the real Wujiang boundary east of it; their grids, people, duties, a year of
reports and the grid workers' last 40 days of patrols and spot checks are synthetic (see
data/README.md). The whole county is checked with the project's own
validator before anything is written. `gis-service load-demo` loads it after 七都.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, shape

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # demo_town/, demo_county/ beside; grid_layers

from demo_county.duties import (  # noqa: E402
    DEPARTMENT_HEADER,
    RESPONSIBILITY_HEADER,
    department_rows,
    responsibility_rows,
    stationed_staff,
    town_departments,
)
from demo_county.grids import CountyGrids, build_county_grids, qidu_grids  # noqa: E402
from demo_county.towns import COUNTY_CODE, TOWNS, TownPlan, cut_towns  # noqa: E402
from demo_town.addresses import (  # noqa: E402
    ADDRESS_HEADER,
    Address,
    address_rows,
    build_addresses,
)
from demo_town.common import (  # noqa: E402
    ANCHOR,
    TOWN_CODE,
    area_km2,
    iso,
    write_csv,
    write_geojson,
)
from demo_town.deadlines import Deadlines  # noqa: E402
from demo_town.districts import build_districts  # noqa: E402
from demo_town.grids import District, TownGrids  # noqa: E402
from demo_town.incidents import HEADER, build_incidents  # noqa: E402
from demo_town.patrols import SPOT_CHECK_HEADER, Walk, build_patrols  # noqa: E402
from demo_town.people import WORKER_HEADER, Worker, build_workers, patrolled  # noqa: E402
from demo_town.town import Town, load_wujiang  # noqa: E402

DEFAULT_SEED = 20261128
DEFAULT_OUT = HERE / "county"
TOWN_DIR = HERE / "demo"  # 七都, as built by build_demo.py
DISPATCHERS = 2  # per neighbour town
COUNTY_TICKETS_FROM = 100_000  # the county numbers each neighbour's tickets in its own range
SQUAD_NUMBERS = ("一", "二", "三")
ACCOUNT_HEADER = ("username", "role", "scope_code")


def _features(name: str) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(
        (TOWN_DIR / name).read_text(encoding="utf-8"))["features"]
    return features


def _deadlines() -> Deadlines:
    """The zone rules' deadlines over 七都's zones and projects (the zones reach into the
    neighbours: the service applies them there too)."""
    zones = [(f["properties"]["code"], f["properties"]["name"], f["properties"]["level"],
              shape(f["geometry"])) for f in _features("zones.geojson")]
    return Deadlines(zones, [shape(f["geometry"]) for f in _features("projects.geojson")])


def _districts(plan: TownPlan, grids: TownGrids) -> list[District]:
    """The town's enforcement districts, named after it (震泽北片区, 震泽综合执法一中队)."""
    names = tuple(f"{plan.stem}{name}" for name in plan.districts)
    numbers = SQUAD_NUMBERS if len(names) > 1 else ("",)
    squads = tuple(f"{plan.stem}综合执法{n}中队" for n in numbers[:len(names)])
    return build_districts(grids, town_code=plan.code, names=names, squad_names=squads,
                           squad_prefix=f"{plan.code}-SQ")


def account_rows() -> list[tuple[str, str, str]]:
    """accounts.csv: the demo accounts of the county's centers (password `demo`, made by
    load-demo): the county center, its commander and planner, and each town's center."""
    rows = [("county", "dispatcher", COUNTY_CODE), ("county_commander", "commander", COUNTY_CODE),
            ("county_planner", "planner", COUNTY_CODE), ("qidu", "dispatcher", TOWN_CODE)]
    return rows + [(plan.login, "dispatcher", plan.code) for plan in TOWNS]


def _patrols(rng: random.Random, grids: CountyGrids,
             people: dict[str, tuple[list[Worker], list[Address]]],
             figures: dict[str, Any]) -> tuple[list[Walk], list[list[str]]]:
    """Each neighbour's grid workers' walks and its center's spot checks of them, as in 七都
    (drawn after every town's reports, so those stay as they were), oldest first."""
    walks: list[Walk] = []
    checks: list[list[str]] = []
    for plan in TOWNS:
        staff, houses = people[plan.code]
        patrols = build_patrols(rng, grids.towns[plan.code], staff, houses,
                                checkers=(plan.login, "county_commander"))
        walks += patrols.walks
        checks += patrols.checks
        figures[plan.code] += (f", {len(patrols.walks)} patrols, "
                               f"{len(patrols.checks)} spot checks")
    walks.sort(key=lambda w: (w.started_at, w.worker))
    checks.sort(key=lambda row: (row[1], row[0]))
    return walks, checks


def build(seed: int, out: Path) -> dict[str, Any]:
    """Write every file of the county; returns a few figures for the log."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    qidu = qidu_grids(_features("grids.geojson"))
    outlines = cut_towns(load_wujiang(), qidu[0].geometry)
    grids: CountyGrids = build_county_grids(rng, outlines, qidu)
    deadlines = _deadlines()
    districts: list[District] = []
    workers: list[Worker] = []
    addresses, incidents = [], []
    figures: dict[str, Any] = {"county_km2": area_km2(grids.county.geometry)}
    people: dict[str, tuple[list[Worker], list[Address]]] = {}
    for number, plan in enumerate(TOWNS, start=1):
        town_grids = grids.towns[plan.code]
        mine = _districts(plan, town_grids)
        staff = build_workers(rng, town_grids, mine, departments=town_departments(plan),
                              dispatchers=DISPATCHERS, dispatcher_prefix=f"DP-{plan.code}")
        town = Town(town_grids.town.geometry, LineString())
        rows = build_addresses(rng, town, town_grids, plan.locale)
        reports = build_incidents(rng, town, rows, deadlines, patrolled(town_grids, staff),
                                  total=plan.incidents, locale=plan.locale,
                                  id_prefix=f"{plan.code}-",
                                  county_from=COUNTY_TICKETS_FROM * number)
        districts += mine
        workers += staff
        addresses += rows
        incidents += reports
        people[plan.code] = (staff, rows)
        figures[plan.code] = (f"{area_km2(town.outline):.1f} km², {len(town_grids.villages)} "
                              f"villages, {len(town_grids.cells)} grids, {len(staff)} workers, "
                              f"{len(rows)} addresses, {len(reports)} incidents")
    walks, checks = _patrols(rng, grids, people, figures)
    workers += stationed_staff()
    write_geojson(out / "grids.geojson", [g.feature() for g in grids.written()])
    write_geojson(out / "districts.geojson", [d.feature() for d in districts])
    write_csv(out / "departments.csv", DEPARTMENT_HEADER, department_rows())
    write_csv(out / "workers.csv", WORKER_HEADER, [w.row() for w in workers])
    write_csv(out / "responsibilities.csv", RESPONSIBILITY_HEADER, responsibility_rows())
    write_csv(out / "addresses.csv", ADDRESS_HEADER, address_rows(addresses))
    write_csv(out / "incidents.csv", HEADER, incidents)
    write_csv(out / "accounts.csv", ACCOUNT_HEADER, account_rows())
    write_geojson(out / "patrols.geojson", [w.feature() for w in walks])
    write_csv(out / "spot_checks.csv", SPOT_CHECK_HEADER, checks)
    return figures


def main() -> None:
    """Parse the command line and build."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    figures = build(args.seed, args.out)
    took = time.perf_counter() - started
    print(f"demo county written to {args.out} in {took:.1f} s (seed {args.seed}, history ends "
          f"{iso(ANCHOR)}): county {figures.pop('county_km2'):.1f} km²; "
          + "; ".join(f"{code} {text}" for code, text in figures.items()))


if __name__ == "__main__":
    main()
