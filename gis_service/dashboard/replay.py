"""A day replayed: the incidents reported that (China) day, each with its status changes up
to the day's end, so the wall's time slider can show the town as it stood at any minute."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.incidents.scope import visible
from gis_service.timeutil import CHINA_TIME

MAX_INCIDENTS = 20_000  # a year of 1,000,000 reports is ~2,700 a day


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def replay_day(session: Session, *, principal: Principal, day: date) -> dict[str, Any]:
    """The day's incidents with `steps`: [epoch seconds, status] from report to the day's end."""
    start = datetime.combine(day, time(), CHINA_TIME)
    end = start + timedelta(days=1)
    rows = session.execute(queries.day_incidents(visible(principal), start, end,
                                                 MAX_INCIDENTS + 1)).all()
    truncated = len(rows) > MAX_INCIDENTS
    rows = rows[:MAX_INCIDENTS]
    steps: dict[int, list[list[Any]]] = defaultdict(list)
    if rows:
        for incident_id, at, status in session.execute(
                queries.day_events([r.id for r in rows], end)):
            if status:
                steps[incident_id].append([_epoch(at), status])
    incidents = [{"id": r.id, "source": r.source, "category": r.category_code,
                  "lon": r.lon, "lat": r.lat, "grid3": r.grid3_code,
                  "reported_at": _epoch(r.reported_at),
                  "steps": steps.get(r.id) or [[_epoch(r.reported_at), "reported"]]}
                 for r in rows]
    return {"day": day.isoformat(), "start": _epoch(start), "end": _epoch(end),
            "incidents": incidents, "truncated": truncated}
