"""A grid's card on the wall: who works it, what is open there, and this month's figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.dashboard.kpi import closures, month_start
from gis_service.errors import NotFoundError
from gis_service.incidents.models import Incident
from gis_service.incidents.queries import in_grid
from gis_service.incidents.scope import visible
from gis_service.people.service import list_workers

OPEN_LISTED = 20


def grid_card(session: Session, *, principal: Principal, code: str, now: datetime,
              yellow_share: float) -> dict[str, Any]:
    """The card of grid `code` (any level) as `principal` may see it; 404 when no such grid."""
    grid = session.execute(queries.grid_version(code, now)).first()
    if grid is None:
        raise NotFoundError(f"no grid {code}")
    scope = visible(principal) & in_grid(code, grid.level)
    month = month_start(now)
    open_rows = session.execute(queries.open_incidents(scope, now, yellow_share, OPEN_LISTED))
    open_count = session.scalar(queries.counted(scope, Incident.status.in_(queries.OPEN)))
    reported = session.scalar(queries.counted(scope, Incident.reported_at >= month))
    workers = [{"code": w.code, "name": w.name, "role": w.role, "on_duty": w.on_duty,
                "backup": w.backup_code} for w in list_workers(session, grid=code)]
    return {
        "code": grid.code, "name": grid.name, "level": grid.level, "parent": grid.parent_code,
        "workers": workers, "open": open_count or 0,
        "open_items": [{"id": r.id, "status": r.status, "category": r.category_code,
                        "deadline": r.deadline, "due_at": r.due_at, "address": r.address}
                       for r in open_rows],
        "month": {"start": month, "reported": reported or 0, **closures(session, scope, month)},
    }
