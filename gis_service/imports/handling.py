"""A history file's closed tickets: the handling they record, replayed as history rows.

A hotline export says when a ticket was closed (办结时间), how it was solved (办理结果, the 721
resolution) and how satisfied the reporter was. The importer routes each row as intake would;
for a row that was closed it then writes the steps a closed ticket went through: the handler
accepts, starts and resolves it, the center verifies and closes it, and the reporter's
evaluation is recorded. The export does not say when each inner step happened, so they are
spread over the handling time at fixed shares (and say so in their detail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gis_service.incidents.core.case import Case, EventRow, next_event, state_of

# (action, state after, share of the handling time at which it happened, who took it)
STEPS = (("accept", "accepted", 0.10, "handler"), ("start", "in_progress", 0.20, "handler"),
         ("resolve", "resolved", 0.85, "handler"), ("verify", "verified", 0.95, "center"),
         ("close", "closed", 1.0, "center"))
REPLAYED = {"replayed": "the export gives only the closing time; this step's time is estimated"}


def closing_events(incident: Case, *, opened: datetime, closed: datetime,
                   resolution: str, satisfaction: int | None,
                   actor: str) -> list[EventRow]:
    """The history rows of a dispatched incident handled and closed at `closed`; the incident
    ends closed (or evaluated) with its resolution."""
    span = closed - opened
    handler = f"{incident.assignee_type}:{incident.assignee_code}"
    events = []
    for action, state, share, who in STEPS:
        before = state_of(incident)
        incident.status = state
        incident.version += 1
        detail: dict[str, Any] = dict(REPLAYED) if share < 1.0 else {}
        if action == "close":
            incident.resolution = resolution
            detail["resolution"] = resolution
        events.append(next_event(incident, actor=handler if who == "handler" else actor,
                                 action=action, at=opened + span * share, before=before,
                                 detail=detail))
    if satisfaction is not None:
        before = state_of(incident)
        incident.satisfaction = satisfaction
        incident.version += 1
        events.append(next_event(incident, actor=actor, action="evaluate", at=closed,
                                 before=before, detail={"satisfaction": satisfaction}))
    return events
