"""The health of the responsibility list: categories whose handlers keep sending them back,
departments that answer the grid's whistle late, and level-3 grids whose load is far from the
others' (this list feeds the planners' balance view: plans/rebalance, which moves boundaries
to even the load out)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.hotspots import queries
from gis_service.hotspots.service import pairs, scope_of

LOAD_WINDOW = timedelta(days=365)
MIN_SPREAD_SHARE = 0.1  # the others' spread is taken as at least this share of their mean
DEFINITIONS = {
    "return_share": "returns / dispatches of the category's incidents in the period (a "
                    "dispatch by the system at intake counts too)",
    "whistle_answer": "the first history row (an action or a photo) written by an account of "
                      "role department scoped to the called department on that incident, at "
                      "or after the whistle; late when after the whistle's respond_by, "
                      "unanswered when none came and respond_by is before the period's end",
    "grid_load": "reports per household (per grid when a grid has no households) over the 12 "
                 "months before the end; z against the other grids' mean and spread",
}


def responsibility_health(session: Session, *, principal: Principal | None, start: datetime,
                          end: datetime, settings: Settings) -> dict[str, Any]:
    """Returned categories, late departments and load outliers for [start, end)."""
    limits = settings
    scope = scope_of(principal, None)
    return {"period": {"start": start.isoformat(), "end": end.isoformat()},
            "categories": _returns(session, scope, start, end, limits),
            "departments": _whistles(session, scope, start, end),
            "grids": _grid_load(session, scope, end, limits.health_load_z),
            "definitions": DEFINITIONS}


def _returns(session: Session, scope: Any, start: datetime, end: datetime,
             limits: Settings) -> list[dict[str, Any]]:
    tally: dict[str, dict[str, int]] = defaultdict(lambda: {"dispatch": 0, "return": 0})
    rows = session.execute(queries.actions_per_category(scope, start, end,
                                                        ("dispatch", "return")))
    for category, action, count in rows:
        tally[category or ""][action] += int(count)
    names = pairs(session, queries.category_names())
    found = []
    for code, counts in tally.items():
        dispatched, returned = counts["dispatch"], counts["return"]
        share = returned / dispatched if dispatched else None
        found.append({"category": code or None, "name": names.get(code, code or "未分类"),
                      "dispatches": dispatched, "returns": returned, "return_share": share,
                      "unclear": share is not None and dispatched >= limits.health_min_dispatches
                      and share >= limits.health_return_share})
    return sorted(found, key=lambda c: (-(c["return_share"] or 0), -c["returns"],
                                        c["category"] or ""))


def _whistles(session: Session, scope: Any, start: datetime,
              end: datetime) -> list[dict[str, Any]]:
    called = session.execute(queries.whistles(scope, start, end)).all()
    if not called:
        return []
    answers: dict[tuple[int, str], list[datetime]] = defaultdict(list)
    first = min(at for _, at, _ in called)
    for incident_id, at, department in session.execute(
            queries.department_actions(sorted({c[0] for c in called}), first)):
        answers[(incident_id, department)].append(at)
    tally: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "called": 0, "on_time": 0, "late": 0, "unanswered": 0, "pending": 0, "hours": []})
    for incident_id, at, detail in called:
        for department, call in (detail.get("called") or {}).items():
            due = datetime.fromisoformat(call["respond_by"])
            answer = next((t for t in answers[(incident_id, department)] if t >= at), None)
            row = tally[department]
            row["called"] += 1
            if answer is None:
                row["unanswered" if due < end else "pending"] += 1
                continue
            row["hours"].append((answer - at).total_seconds() / 3600)
            row["late" if answer > due else "on_time"] += 1
    return sorted(({"department": code, **{k: v for k, v in row.items() if k != "hours"},
                    "late_share": (row["late"] + row["unanswered"])
                    / max(row["called"] - row["pending"], 1),
                    "mean_answer_hours": round(float(np.mean(row["hours"])), 2)
                    if row["hours"] else None} for code, row in tally.items()),
                  key=lambda d: (-d["late_share"], d["department"]))


def _grid_load(session: Session, scope: Any, end: datetime, z_limit: float) -> dict[str, Any]:
    grids = session.execute(queries.level3_grids(end)).all()
    counts = pairs(session, queries.reports_per_grid3(scope, end - LOAD_WINDOW, end))
    per_household = bool(grids) and all((g[2] or 0) > 0 for g in grids)
    loads = np.array([counts.get(code, 0) / (households if per_household else 1)
                      for code, _, households in grids], dtype=np.float64)
    items = []
    for i, (code, name, households) in enumerate(grids):
        others = np.delete(loads, i)
        z = _z_against(loads[i], others)
        items.append({"grid": code, "name": name, "households": households,
                      "count": int(counts.get(code, 0)), "load": round(float(loads[i]), 4),
                      "z": None if z is None else round(z, 2),
                      "far": z is not None and abs(z) >= z_limit,
                      "direction": None if z is None else ("high" if z > 0 else "low")})
    return {"per": "household" if per_household else "grid",
            "window": {"start": (end - LOAD_WINDOW).isoformat(), "end": end.isoformat()},
            "z_limit": z_limit, "feeds": "the planners' balance view (plans/rebalance)",
            "items": sorted(items, key=lambda g: -abs(g["z"] or 0))}


def _z_against(value: float, others: Any) -> float | None:
    """How many spreads `value` lies from the other grids' mean; leaving the grid out keeps
    one overloaded grid from hiding itself by raising the spread it is measured by."""
    if others.size < 2:
        return None
    mean = float(others.mean())
    spread = max(float(others.std()), MIN_SPREAD_SHARE * abs(mean), 1e-9)
    return float(value - mean) / spread
