"""The wall's KPI panel: today's intake by channel, open and overdue now, this month's closures
(on time, the 721 ratio, satisfaction) and the busiest grids. Days and months are China's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.incidents.core.lifecycle import RESOLUTIONS
from gis_service.incidents.models import Incident
from gis_service.incidents.scope import visible
from gis_service.timeutil import CHINA_TIME

TOP_GRIDS = 5


def day_start(now: datetime) -> datetime:
    """Midnight (China time) of the day `now` falls in."""
    return now.astimezone(CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    """The first of the month (China time) `now` falls in."""
    return day_start(now).replace(day=1)


def closures(session: Session, scope: Any, since: datetime) -> dict[str, Any]:
    """Closed since `since`: how many, on-time share, the 721 counts and ratio, satisfaction."""
    by_resolution = {r: 0 for r in RESOLUTIONS}
    closed = on_time = 0
    rated = weighted = 0.0
    for resolution, count, in_time, satisfaction in session.execute(
            queries.closed_since(scope, since)):
        closed += count
        on_time += int(in_time or 0)
        if resolution in by_resolution:
            by_resolution[resolution] += count
        if satisfaction is not None:
            rated += count
            weighted += float(satisfaction) * count
    resolved = sum(by_resolution.values())
    return {"closed": closed, "on_time": on_time,
            "on_time_rate": round(on_time / closed, 4) if closed else None,
            "resolutions": by_resolution,
            "ratio_721": ([round(10 * by_resolution[r] / resolved, 1) for r in RESOLUTIONS]
                          if resolved else None),
            "satisfaction": round(weighted / rated, 2) if rated else None}


def _named(session: Session, rows: Sequence[Any], now: datetime) -> list[dict[str, Any]]:
    codes = [code for code, _ in rows]
    names: dict[str, str] = {}
    if codes:
        names.update(session.execute(queries.grid_names(codes, now)).all())
    return [{"code": code, "name": names.get(code, code), "count": count}
            for code, count in rows]


def wall_kpis(session: Session, *, principal: Principal, now: datetime,
              yellow_share: float) -> dict[str, Any]:
    """Every figure of the KPI panel, as `principal` may see them, at `now`."""
    scope = visible(principal)
    today, month = day_start(now), month_start(now)
    intake: dict[str, int] = dict(
        session.execute(queries.intake_by_source(scope, today)).all())
    deadlines: dict[str, int] = dict(
        session.execute(queries.open_by_deadline(scope, now, yellow_share)).all())
    open_now = sum(n for colour, n in deadlines.items() if colour != "done")
    busiest_open = session.execute(queries.busiest_grids(
        scope, Incident.status.in_(queries.OPEN), TOP_GRIDS)).all()
    busiest_month = session.execute(queries.busiest_grids(
        scope, Incident.reported_at >= month, TOP_GRIDS)).all()
    return {
        "at": now, "day_start": today, "month_start": month,
        "today": {"total": sum(intake.values()), "by_source": intake},
        "open": open_now, "overdue": deadlines.get("red", 0),
        "deadlines": {c: deadlines.get(c, 0) for c in ("green", "yellow", "red", "none")},
        "month": closures(session, scope, month),
        "last_30_days": closures(session, scope, now - timedelta(days=30)),
        "top_open_grids": _named(session, busiest_open, now),
        "top_month_grids": _named(session, busiest_month, now),
    }
