"""Handing an incident up (grid → town command center → county), written once: the
`escalate` action and the deadline scheduler both call `hand_up`."""

from __future__ import annotations

from datetime import datetime

from gis_service.incidents.core import deadlines
from gis_service.incidents.core.case import Placeable
from gis_service.incidents.core.routing import COUNTY_CENTER

MAX_LEVEL = 2  # 1 = the town command center, 2 = the county


def hand_up(case: Placeable) -> str:
    """Raise the case one level and assign it to that level's center; who it went to."""
    case.escalation_level += 1
    if case.escalation_level == 1:
        case.assignee_type, case.assignee_code = "town", case.town_code
        return "town command center"
    case.assignee_type, case.assignee_code = "county", COUNTY_CENTER
    return "county command center"


def hand_up_overdue(case: Placeable, now: datetime, resolve_hours: float | None) -> str:
    """Hand an overdue case up with a fresh deadline for its new handler (the missed one is
    kept); who it went to."""
    to = hand_up(case)
    deadlines.replace_deadline(case, deadlines.on_escalation(now, resolve_hours), now)
    return to


def hand_up_by_hand(case: Placeable, now: datetime) -> str:
    """A handler or the center hands the case up: a deadline already missed stays missed."""
    deadlines.keep_missed(case, now)
    return hand_up(case)
