"""Handing an incident to a handler: a new report's first routing, a dispatcher's choice or
a re-routing, each with the deadlines the rule gives and the zone rules adjust."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gis_service.incidents.core import deadlines
from gis_service.incidents.core.case import Case, EventRow, Placeable, next_event, state_of
from gis_service.incidents.core.routing import (
    NO_ADJUSTMENT,
    Adjustment,
    Assignment,
    RoutingBook,
    Rule,
)
from gis_service.locate.located import Located

Router = Callable[[Rule, Located], Assignment]  # the book's handler, or a caching stand-in


def assign(case: Case, assignment: Assignment, rule: Rule | None, now: datetime,
           county_due_at: datetime | None = None,
           adjustment: Adjustment = NO_ADJUSTMENT) -> None:
    """Hand the case to a handler with the rule's deadlines, as the zone rules adjust them (a
    county deadline caps them)."""
    case.assignee_type, case.assignee_code = assignment.type, assignment.code
    case.cooperating = sorted(set(case.cooperating) | set(assignment.cooperating)
                              | set(adjustment.cooperating))
    case.priority = max(case.priority, adjustment.priority)
    due = case.due_at
    if rule is not None:
        case.respond_due_at, due = deadlines.by_rule(
            now, rule.respond_hours, rule.resolve_hours, adjustment.deadline_factor)
    deadlines.replace_deadline(case, deadlines.capped(due, county_due_at), now)


def route_new(book: RoutingBook, case: Case, located: Located | None, now: datetime,
              county_due: datetime | None, router: Router | None = None) -> list[EventRow]:
    """Route a new case: outside the towns it waits for a place, of an unknown category for
    a dispatcher to register, otherwise it goes to the handler the book names there. The
    history rows that say what happened and why. `router` may stand in for the book's
    handler (the bulk import caches its answers per place)."""
    before = state_of(case)
    if located is None or not located.in_service_area:
        case.status = "needs_location"
        reason = "no coordinates" if located is None else "outside the service area"
        return [next_event(case, actor="system", action="needs_location", at=now,
                           before=before, detail={"reason": reason})]
    why = route_by_book(book, case, located, now, county_due, router)
    if why is None:
        return []  # unknown category: waits in `reported` for a dispatcher to register
    return [next_event(case, actor="system", action="dispatch", at=now, before=before,
                       detail=why)]


def route_by_book(book: RoutingBook, case: Case, located: Located, now: datetime,
                  county_due: datetime | None = None,
                  router: Router | None = None) -> dict[str, Any] | None:
    """Dispatch a case lying in a town to the handler the book names there for its category,
    with the rule's deadlines as the zone rules adjust them; why (for the history), or None
    when no duty row holds for its category there (the case is left as it was). A new
    report's routing and a confirmed camera detection's both come here."""
    rule = book.rule(case.category_code, located.town)
    if rule is None:
        return None
    assignment = router(rule, located) if router else book.handler(located, rule)
    adjustment = book.adjustment(case, located)
    assign(case, assignment, rule, now, county_due, adjustment)
    case.status = "dispatched"
    why = {"auto": True, **assignment.why}
    if adjustment.rules:
        why["zone_rules"] = list(adjustment.rules)
    return why


def hand_back(case: Placeable, county_center: str | None) -> dict[str, str | None]:
    """A handler returns the case to its town's center, and a town center returns a ticket
    to the county center above it, when there is one ("not ours"); who returned it."""
    returned_by = {"type": case.assignee_type, "code": case.assignee_code}
    if case.assignee_type == "town" and county_center is not None:
        case.assignee_type, case.assignee_code = "county", county_center
    else:
        case.assignee_type, case.assignee_code = "town", case.town_code
    return returned_by
