"""The wall's live feed: every open incident once, then only what changed.

The cursor is the id of the newest history row the wall has seen. Every change to an incident
writes a history row (append-only), so the rows after the cursor name the incidents to redraw:
the wall adds or moves those still open and drops those that closed. Ids are handed out when
a row is written, not when its transaction commits, so a poll also re-reads those of the last
`OVERLAP` rows before the cursor that were written shortly before the last poll (`seen_at`,
less `LATE_SECONDS`): they may have committed after it (redrawing an incident twice is
harmless; missing one is not). Bulk imports commit many
rows at once, long after their ids were taken: the wall starts afresh (`reset`) every minute,
which also catches them. A wall that fell far behind is told to start again at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.scope import visible

MAX_OPEN = 20_000  # open incidents drawn at once; a town has hundreds
MAX_CHANGES = 5_000  # history rows read per poll; beyond this the wall starts afresh
OVERLAP = 1_000  # history rows re-read per poll, for transactions that committed late
LATE_SECONDS = 10  # how long after writing a row its transaction may take to commit


def _item(row: Any) -> dict[str, Any]:
    return {"id": row.id, "status": row.status, "source": row.source,
            "category": row.category_code, "priority": row.priority,
            "lon": row.lon, "lat": row.lat, "reported_at": row.reported_at,
            "due_at": row.due_at, "yellow_at": row.yellow_at, "deadline": row.deadline,
            "overdue_since": row.overdue_since,
            "grid3": row.grid3_code,
            "assignee": (f"{row.assignee_type}:{row.assignee_code}"
                         if row.assignee_type and row.assignee_code else None),
            "address": row.address, "open": row.status in OPEN_STATES}


def live_feed(session: Session, *, principal: Principal, after: int | None,
              seen_at: datetime | None = None, now: datetime,
              yellow_share: float) -> dict[str, Any]:
    """With no cursor: every open placed incident (`reset`). With one: the incidents changed
    since, open or not. Both with the new cursor."""
    scope = visible(principal)
    if after is not None:
        seen_since = seen_at - timedelta(seconds=LATE_SECONDS) if seen_at else None
        changed = session.execute(queries.changed_after(
            after, max(after - OVERLAP, 0), seen_since, MAX_CHANGES + 1)).all()
        if len(changed) <= MAX_CHANGES:
            ids = sorted({incident_id for incident_id, _ in changed})
            cursor = max([after, *(row_id for _, row_id in changed)])
            rows: Sequence[Any] = session.execute(
                queries.incidents_by_id(scope, ids, now, yellow_share)).all() if ids else []
            return {"cursor": cursor, "reset": False, "incidents": [_item(r) for r in rows],
                    "at": now}
    cursor = int(session.scalar(queries.newest_event()) or 0)
    everything = session.execute(queries.open_incidents(scope, now, yellow_share, MAX_OPEN))
    return {"cursor": cursor, "reset": True, "incidents": [_item(r) for r in everything],
            "at": now}
