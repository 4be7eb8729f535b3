"""The events the service sends, and which a stored change makes: every action on an incident
is an `incident.updated` (a subscriber that mirrors an incident needs each step), and some are
also a milestone of their own, sent beside it for those who want only that."""

from __future__ import annotations

CREATED = "incident.created"
UPDATED = "incident.updated"
CLOSED = "incident.closed"
ESCALATED = "incident.escalated"
ENFORCEMENT_RESULT = "enforcement.result"
PLAN_PUBLISHED = "plan.published"
EVENT_TYPES = (CREATED, UPDATED, CLOSED, ESCALATED, ENFORCEMENT_RESULT, PLAN_PUBLISHED)


def types_of(action: str, resolution: str | None) -> list[str]:
    """The events one history row of an incident makes, in the order they are sent."""
    if action == "report":
        return [CREATED]
    made = [UPDATED]
    if action == "close":
        made.append(CLOSED)
        if resolution == "enforcement":  # the dual push: the approval desk, the commission
            made.append(ENFORCEMENT_RESULT)
    elif action == "escalate":
        made.append(ESCALATED)
    return made
