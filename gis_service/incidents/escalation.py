"""The deadline scheduler: every few seconds, incidents past their deadline are handed up one
level (the hand-off itself is `core/escalation.py`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis_service.incidents.core.case import state_of
from gis_service.incidents.core.escalation import MAX_LEVEL, hand_up_with_deadline
from gis_service.incidents.core.lifecycle import TRANSITIONS
from gis_service.incidents.core.routing import RoutingBook
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import load_routing_book, routing_book
from gis_service.incidents.service import record
from gis_service.locate.service import LocatorCache

logger = logging.getLogger(__name__)
def escalate_overdue(session: Session, now: datetime, limit: int = 500,
                     book: RoutingBook | None = None) -> list[int]:
    """Escalate incidents past their deadline one level and give the new handler a fresh
    deadline; the missed one is kept (`overdue_since`) and the history says why. Rows another
    transaction holds are left for the next round. `book` names the rules and the county
    center (read from the database when not given)."""
    escalatable = TRANSITIONS["escalate"].sources
    # what the county center holds has nowhere higher to go
    not_county = or_(Incident.assignee_type.is_(None), Incident.assignee_type != "county")
    stmt = (select(Incident).where(Incident.status.in_(escalatable), Incident.due_at < now,
                                   Incident.escalation_level < MAX_LEVEL, not_county)
            .order_by(Incident.due_at).limit(limit).with_for_update(skip_locked=True))
    done = []
    for incident in session.scalars(stmt):
        before = state_of(incident)
        was_due = incident.due_at
        book = book or load_routing_book(session)
        rule = book.rule(incident.category_code, incident.town_code)
        to = hand_up_with_deadline(incident, now, rule.resolve_hours if rule else None,
                                   book.county_center(incident.town_code))
        incident.version += 1
        incident.updated_at = now
        record(session, incident, actor="system", action="escalate", at=now, before=before,
               detail={"reason": "overdue", "was_due": was_due.isoformat() if was_due else None,
                       "level": incident.escalation_level, "to": to})
        done.append(incident.id)
    session.flush()
    return done


async def escalation_loop(factory: sessionmaker[Session], interval: float,
                          locator: LocatorCache[RoutingBook]) -> None:
    """Run `escalate_overdue` every `interval` seconds until cancelled, with the routing book
    the locator holds."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(_one_round, factory, datetime.now(UTC), locator)
        except Exception:  # a failed round is logged and retried next time, never fatal
            logger.exception("escalation round failed")


def _one_round(factory: sessionmaker[Session], now: datetime,
               locator: LocatorCache[RoutingBook]) -> None:
    with factory() as session:
        book = routing_book(locator.current(), session)
        escalated = escalate_overdue(session, now, book=book)
        session.commit()
    if escalated:
        logger.info("escalated %d overdue incident(s)", len(escalated))
