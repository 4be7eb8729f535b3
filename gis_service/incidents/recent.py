"""Recent incidents as plain points, for the map wall (read only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.incidents.models import Incident
from gis_service.incidents.scope import visible

POINT_COLUMNS = (Incident.id, Incident.category_code, Incident.status, Incident.lon,
                 Incident.lat, Incident.reported_at, Incident.address, Incident.grid3_code)


def recent_points(session: Session, *, since: datetime, limit: int = 20000,
                  principal: Principal | None = None) -> list[dict[str, Any]]:
    """Placed incidents reported since `since`, newest first; only what `principal` may see."""
    stmt = (select(*POINT_COLUMNS)
            .where(Incident.reported_at >= since, Incident.lon.is_not(None),
                   Incident.lat.is_not(None))
            .order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(limit))
    if principal is not None:
        stmt = stmt.where(visible(principal))
    return [dict(row._mapping) for row in session.execute(stmt)]
