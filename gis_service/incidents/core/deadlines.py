"""Deadlines: every one an incident is given (on intake, by its category's rule, on
escalation, the whistle's respond-by), its colour (in Python and its SQL twin), what counts as
overdue, and replacing a deadline without forgetting one that was missed.

An incident that missed a deadline stays overdue until it is closed, even after escalation or
a re-assignment gives its new handler a fresh deadline: `overdue_since` keeps the first missed
deadline (the wall's 超期, the on-time rate and the assessment read it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Interval, and_, case, or_
from sqlalchemy.orm import InstrumentedAttribute

from gis_service.incidents.core.case import Case
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident

OPEN = sorted(OPEN_STATES)
UNROUTED_HOURS = 24.0  # a report not yet routed: the center's time to place and dispatch it
EXTENSION_HOURS = 24.0  # a new handler's time after escalation when the category names none
WHISTLE_RESPOND_HOURS = 2.0  # departments called by the grid must report within this


def on_intake(at: datetime, county_due_at: datetime | None) -> datetime:
    """The deadline of a report as it comes in, before any handler (a county ticket's own
    deadline caps it)."""
    due = at + timedelta(hours=UNROUTED_HOURS)
    return min(due, county_due_at) if county_due_at is not None else due


def by_rule(now: datetime, respond_hours: float, resolve_hours: float,
            factor: float) -> tuple[datetime, datetime]:
    """The respond-by and resolve-by a category's rule gives a handler from `now` (a zone's
    rule scales both by `factor`)."""
    return (now + timedelta(hours=respond_hours * factor),
            now + timedelta(hours=resolve_hours * factor))


def capped(due: datetime | None, county_due_at: datetime | None) -> datetime | None:
    """A deadline no later than the county's."""
    if county_due_at is not None and (due is None or county_due_at < due):
        return county_due_at
    return due


def on_escalation(now: datetime, resolve_hours: float | None) -> datetime:
    """The fresh deadline of the center an overdue incident is handed up to."""
    return now + timedelta(hours=EXTENSION_HOURS if resolve_hours is None else resolve_hours)


def whistle_respond_by(now: datetime) -> datetime:
    """When departments the grid whistled for must have reported."""
    return now + timedelta(hours=WHISTLE_RESPOND_HOURS)


def deadline_state(incident: Incident, now: datetime, yellow_share: float) -> str:
    """`done`, `none`, `green`, `yellow` (most of the time used) or `red` (overdue, now or
    at any time before)."""
    if incident.status not in OPEN_STATES:
        return "done"
    if incident.overdue_since is not None:
        return "red"
    if incident.due_at is None:
        return "none"
    if now > incident.due_at:
        return "red"
    allowed = (incident.due_at - incident.created_at).total_seconds()
    used = (now - incident.created_at).total_seconds()
    return "yellow" if allowed <= 0 or used / allowed >= yellow_share else "green"


def turns_yellow(yellow_share: float) -> ColumnElement[datetime]:
    """In SQL, when an incident's deadline colour turns yellow: `yellow_share` of the time
    allowed has passed."""
    allowed = (Incident.due_at - Incident.created_at).self_group()
    return Incident.created_at + allowed.op("*", return_type=Interval)(yellow_share)


def deadline_colour(now: datetime, yellow_share: float) -> ColumnElement[str]:
    """The SQL twin of `deadline_state` (a test holds the two equal)."""
    return case(
        (Incident.status.not_in(OPEN), "done"), (Incident.overdue_since.is_not(None), "red"),
        (Incident.due_at.is_(None), "none"), (Incident.due_at < now, "red"),
        (or_(Incident.due_at <= Incident.created_at, turns_yellow(yellow_share) <= now),
         "yellow"),
        else_="green")


def overdue(now: datetime) -> ColumnElement[bool]:
    """Open incidents past their deadline now, or that missed one before."""
    return and_(Incident.status.in_(OPEN),
                or_(Incident.due_at < now, Incident.overdue_since.is_not(None)))


def keep_missed(case: Case, now: datetime) -> None:
    """Record the case's deadline as missed when it has passed (the first one only)."""
    if case.due_at is not None and case.due_at < now and case.overdue_since is None:
        case.overdue_since = case.due_at


def replace_deadline(case: Case, due_at: datetime | None, now: datetime) -> None:
    """Give the case a new deadline; a deadline already missed is kept as the first."""
    keep_missed(case, now)
    case.due_at = due_at


def closed_on_time(closed_at: ColumnElement[datetime] | InstrumentedAttribute[datetime],
                   ) -> ColumnElement[bool]:
    """Closed by its deadline, and never overdue before (an escalation's fresh deadline does
    not make a missed one on time)."""
    return and_(Incident.overdue_since.is_(None),
                or_(Incident.due_at.is_(None), closed_at <= Incident.due_at))
