"""Build the demo town 七都镇 (demo) into data/demo/: the same seed gives byte-identical files.

    .venv/bin/python data/build_demo.py [--seed 20261122] [--out data/demo]

The town is cut from the real Wujiang boundary (data/source/); everything else is synthetic or
approximate (see data/README.md). The grids are checked with the project's own validator
before anything is written.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from shapely.geometry import shape

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # demo_town/ beside this script; grid_layers

from demo_town.addresses import (  # noqa: E402
    ADDRESS_HEADER,
    Address,
    address_rows,
    build_addresses,
)
from demo_town.cameras import (  # noqa: E402
    CAMERA_HEADER,
    EVENT_HEADER,
    SCENE_HEADER,
    build_camera_events,
    build_cameras,
    scene_rows,
)
from demo_town.common import (  # noqa: E402
    ANCHOR,
    area_km2,
    iso,
    write_csv,
    write_geojson,
)
from demo_town.deadlines import Deadlines  # noqa: E402
from demo_town.districts import build_districts  # noqa: E402
from demo_town.grids import TownGrids, build_grids  # noqa: E402
from demo_town.incidents import HEADER, build_incidents  # noqa: E402
from demo_town.patrols import SPOT_CHECK_HEADER, build_patrols  # noqa: E402
from demo_town.people import (  # noqa: E402
    DEPARTMENTS,
    WORKER_HEADER,
    ZONE_RULES,
    build_workers,
    category_rows,
    patrolled,
)
from demo_town.pois import build_pois  # noqa: E402
from demo_town.projects import project_features  # noqa: E402
from demo_town.teams import TEAM_HEADER, build_teams  # noqa: E402
from demo_town.town import Town, build_town  # noqa: E402
from demo_town.zones import build_taihu, river_features, zone_features  # noqa: E402

DEFAULT_SEED = 20261122
DEFAULT_OUT = HERE / "demo"
CATEGORY_HEADER = ("category_code", "category_name", "handler", "department_code",
                   "cooperating", "respond_hours", "resolve_hours")
RULE_HEADER = ("code", "zone_level", "in_project", "categories", "priority",
               "deadline_factor", "cooperating", "note")


def _write_places(out: Path, rng: random.Random, town: Town,
                  grids: TownGrids) -> tuple[list[Address], Deadlines]:
    """Grids, districts, zones, rivers, projects, addresses and stations; the addresses and
    the zone rules' deadlines over the zones and projects written."""
    write_geojson(out / "grids.geojson", [g.feature() for g in grids.all()])
    write_geojson(out / "districts.geojson", [d.feature() for d in grids.districts])
    taihu = build_taihu(grids.town.geometry)
    write_geojson(out / "zones.geojson", zone_features(taihu))
    write_geojson(out / "rivers.geojson", river_features(taihu))
    projects = project_features(town, grids)
    write_geojson(out / "projects.geojson", projects)
    deadlines = Deadlines(taihu.zones, [shape(p["geometry"]) for p in projects])
    houses = build_addresses(rng, town, grids)
    pois, stations = build_pois(rng, houses, grids)
    write_geojson(out / "stations.geojson", [s.feature() for s in stations])
    rows = houses + pois
    write_csv(out / "addresses.csv", ADDRESS_HEADER, address_rows(rows))
    return rows, deadlines


def build(seed: int, out: Path) -> dict[str, float]:
    """Write every file of the demo town; returns a few figures for the log."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    town = build_town()
    grids = build_grids(rng, town)
    grids.districts = build_districts(grids)
    rows, deadlines = _write_places(out, rng, town, grids)
    write_csv(out / "departments.csv", ("code", "name"), DEPARTMENTS)
    workers = build_workers(rng, grids, grids.districts)
    write_csv(out / "workers.csv", WORKER_HEADER, [w.row() for w in workers])
    write_csv(out / "responsibilities.csv", CATEGORY_HEADER, category_rows())
    write_csv(out / "zone_rules.csv", RULE_HEADER, ZONE_RULES)
    incidents = build_incidents(rng, town, rows, deadlines, patrolled(grids, workers))
    write_csv(out / "incidents.csv", HEADER, incidents)
    patrols = build_patrols(rng, grids, workers, rows)
    write_geojson(out / "patrols.geojson", [w.feature() for w in patrols.walks])
    write_csv(out / "spot_checks.csv", SPOT_CHECK_HEADER, patrols.checks)
    # drawn last, so that the files above stay as they were before cameras and teams came
    cameras = build_cameras(rng, town, rows)
    write_csv(out / "cameras.csv", CAMERA_HEADER, [c.row() for c in cameras])
    write_csv(out / "video_scenes.csv", SCENE_HEADER, scene_rows())
    events = build_camera_events(rng, cameras, town)
    write_csv(out / "camera_events.csv", EVENT_HEADER, events)
    team = build_teams(rng, grids)
    write_csv(out / "grid_team.csv", TEAM_HEADER, team)
    return {"town_km2": area_km2(grids.town.geometry), "addresses": len(rows),
            "workers": len(workers), "incidents": len(incidents),
            "patrols": len(patrols.walks), "spot_checks": len(patrols.checks),
            "cameras": len(cameras), "camera_events": len(events), "team_members": len(team)}


def main() -> None:
    """Parse the command line and build."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    started = time.perf_counter()
    figures = build(args.seed, args.out)
    took = time.perf_counter() - started
    print(f"demo town written to {args.out} in {took:.1f} s (seed {args.seed}, history ends "
          f"{iso(ANCHOR)}): " + ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else
                                        f"{k} {v:,}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
