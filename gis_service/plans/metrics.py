"""Balance of a plan: per grid what it holds (households, people, address points, enterprises,
a year's incidents), its size and shape, and how far level-3 grids are from the target band.

Households and population come from the grid's own fields; where a grid has none they are
estimated from its address points: one household per address point without a POI name (a
house number, not a shop or an office), `persons_per_household` people per household.
Enterprises are address points whose `attributes.kind` says enterprise/company or whose POI
name holds 公司, 厂 or 企业 (the address model has no kind column).
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_service import sql_files
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.plans.drafts import plan_grids
from gis_service.plans.models import Plan, PlanGrid

SQL = Path(__file__).parent / "sql"
METRICS = sql_files.load(SQL, "metrics")
WINDOW = timedelta(days=365)


def get_plan(session: Session, plan_id: int) -> Plan:
    """The plan, or 404."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"没有方案 {plan_id}")
    return plan


def parse_band(value: str) -> tuple[int, int]:
    """"low,high" households as a pair; 422 when it is not two ordered whole numbers."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
        raise InvalidInputError(f"户数区间 {value!r} 应写作“下限,上限”，且下限不大于上限")
    return int(parts[0]), int(parts[1])


def deviation(households: int, band: tuple[int, int]) -> int:
    """0 inside the band, else the signed distance to its nearer end."""
    low, high = band
    return households - low if households < low else max(households - high, 0)


def polsby_popper(area_m2: float, perimeter_m: float) -> float:
    """4πA/P²: 1 for a circle, near 0 for a long thin shape."""
    return 4 * math.pi * area_m2 / perimeter_m**2 if perimeter_m > 0 else 0.0


def plan_metrics(session: Session, *, plan_id: int, band: tuple[int, int], now: datetime,
                 persons_per_household: float = 2.8) -> dict[str, Any]:
    """Every grid's numbers, and the plan's spread of households over its level-3 grids."""
    get_plan(session, plan_id)
    grids = {g.code: g for g in plan_grids(session, plan_id)}
    rows = session.execute(METRICS, {"plan_id": plan_id, "since": now - WINDOW}).mappings()
    items = [_grid_item(grids[row["code"]], row, band, persons_per_household) for row in rows]
    level3 = [item for item in items if item["level"] == 3]
    households = [item["households"] for item in level3]
    spread = None
    if households:
        spread = {"min": min(households), "max": max(households),
                  "mean": round(statistics.fmean(households), 1),
                  "stdev": round(statistics.pstdev(households), 1)}
    return {"band": list(band), "grids": items,
            "plan": {"grids": len(items), "level3_grids": len(level3),
                     "outside_band": [i["code"] for i in level3 if not i["in_band"]],
                     "spread": spread}}


def _grid_item(grid: PlanGrid, row: Any, band: tuple[int, int],
               persons_per_household: float) -> dict[str, Any]:
    estimated = grid.households is None
    households: int = row["dwellings"] if grid.households is None else grid.households
    population = grid.population
    if population is None:
        population = round(households * persons_per_household)
    item: dict[str, Any] = {
        "code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind,
        "parent_code": grid.parent_code, "households": households,
        "households_source": "address_points" if estimated else "grid",
        "population": population,
        "population_source": "grid" if grid.population is not None else "estimate",
        "address_points": row["address_points"], "enterprises": row["enterprises"],
        "incidents_12m": row["incidents_12m"], "area_m2": round(row["area_m2"], 1),
        "perimeter_m": round(row["perimeter_m"], 1),
        "polsby_popper": round(polsby_popper(row["area_m2"], row["perimeter_m"]), 4),
        "deviation": None, "in_band": None}
    if grid.level == 3:  # the band is for the grids a worker walks
        item["deviation"] = deviation(households, band)
        item["in_band"] = item["deviation"] == 0
    return item
