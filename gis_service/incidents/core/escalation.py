"""Handing an incident up (grid → town command center → county center), written once: the
`escalate` action and the deadline scheduler both call `hand_up`. The county center is named
by the county grid's code (`RoutingBook.county_center`)."""

from __future__ import annotations

from datetime import datetime

from gis_service.incidents.core import deadlines
from gis_service.incidents.core.case import Placeable

MAX_LEVEL = 2  # 1 = the town command center, 2 = the county


def hand_up(case: Placeable, county_center: str) -> str:
    """Raise the case one level and assign it to that level's center (a case a center already
    holds goes to the county: nothing is handed down by escalating); who it went to."""
    case.escalation_level += 1
    if case.escalation_level == 1 and case.assignee_type not in ("town", "county"):
        case.assignee_type, case.assignee_code = "town", case.town_code
        return "town command center"
    case.escalation_level = MAX_LEVEL
    case.assignee_type, case.assignee_code = "county", county_center
    return "county command center"


def hand_up_with_deadline(case: Placeable, now: datetime, resolve_hours: float | None,
                          county_center: str) -> str:
    """Hand the case up (by hand or because it is overdue) with a fresh deadline for its new
    handler; a deadline already missed stays on record (`overdue_since`). Who it went to."""
    to = hand_up(case, county_center)
    deadlines.replace_deadline(case, deadlines.on_escalation(now, resolve_hours), now)
    return to
