"""Deadlines: an incident's colour (in Python and its SQL twin), what counts as overdue, and
replacing a deadline without forgetting one that was missed.

An incident that missed a deadline stays overdue until it is closed, even after escalation or
a re-assignment gives its new handler a fresh deadline: `overdue_since` keeps the first missed
deadline (the wall's 超期, the on-time rate and the assessment read it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Interval, and_, case, or_
from sqlalchemy.orm import InstrumentedAttribute

from gis_service.incidents.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident

OPEN = sorted(OPEN_STATES)


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


def deadline_colour(now: datetime, yellow_share: float) -> ColumnElement[str]:
    """The SQL twin of `deadline_state` (a test holds the two equal)."""
    allowed = (Incident.due_at - Incident.created_at).self_group()
    turns_yellow = Incident.created_at + allowed.op("*", return_type=Interval)(yellow_share)
    return case(
        (Incident.status.not_in(OPEN), "done"), (Incident.overdue_since.is_not(None), "red"),
        (Incident.due_at.is_(None), "none"), (Incident.due_at < now, "red"),
        (or_(Incident.due_at <= Incident.created_at, turns_yellow <= now), "yellow"),
        else_="green")


def overdue(now: datetime) -> ColumnElement[bool]:
    """Open incidents past their deadline now, or that missed one before."""
    return and_(Incident.status.in_(OPEN),
                or_(Incident.due_at < now, Incident.overdue_since.is_not(None)))


def keep_missed(incident: Incident, now: datetime) -> None:
    """Record the incident's deadline as missed when it has passed (the first one only)."""
    if incident.due_at is not None and incident.due_at < now and incident.overdue_since is None:
        incident.overdue_since = incident.due_at


def replace_deadline(incident: Incident, due_at: datetime | None, now: datetime) -> None:
    """Give the incident a new deadline; a deadline already missed is kept as the first."""
    keep_missed(incident, now)
    incident.due_at = due_at


def closed_on_time(closed_at: ColumnElement[datetime] | InstrumentedAttribute[datetime],
                   ) -> ColumnElement[bool]:
    """Closed by its deadline, and never overdue before (an escalation's fresh deadline does
    not make a missed one on time)."""
    return and_(Incident.overdue_since.is_(None),
                or_(Incident.due_at.is_(None), closed_at <= Incident.due_at))
