"""Handing an incident up (grid → town command center → county) and the scheduler that does it
for overdue incidents. The hand-off itself has one home, `hand_up`: the scheduler and the
`escalate` action both call it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis_service.incidents import queries
from gis_service.incidents.deadlines import on_escalation, replace_deadline
from gis_service.incidents.lifecycle import TRANSITIONS
from gis_service.incidents.models import Incident
from gis_service.incidents.routing import COUNTY_CENTER
from gis_service.incidents.service import record, state_of

logger = logging.getLogger(__name__)
MAX_LEVEL = 2  # 1 = the town command center, 2 = the county


def hand_up(incident: Incident) -> str:
    """Raise the incident one level and assign it to that level's center; who it went to."""
    incident.escalation_level += 1
    if incident.escalation_level == 1:
        incident.assignee_type, incident.assignee_code = "town", incident.town_code
        return "town command center"
    incident.assignee_type, incident.assignee_code = "county", COUNTY_CENTER
    return "county command center"


def escalate_overdue(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Escalate incidents past their deadline one level and give the new handler a fresh
    deadline; the missed one is kept (`overdue_since`) and the history says why. Rows another
    transaction holds are left for the next round."""
    escalatable = TRANSITIONS["escalate"].sources
    stmt = (select(Incident).where(Incident.status.in_(escalatable), Incident.due_at < now,
                                   Incident.escalation_level < MAX_LEVEL)
            .order_by(Incident.due_at).limit(limit).with_for_update(skip_locked=True))
    done = []
    for incident in session.scalars(stmt):
        before = state_of(incident)
        was_due = incident.due_at
        to = hand_up(incident)
        rule = queries.rule_for(session, incident.category_code)
        replace_deadline(incident, on_escalation(now, rule.resolve_hours if rule else None), now)
        incident.version += 1
        incident.updated_at = now
        record(session, incident, actor="system", action="escalate", at=now, before=before,
               detail={"reason": "overdue", "was_due": was_due.isoformat() if was_due else None,
                       "level": incident.escalation_level, "to": to})
        done.append(incident.id)
    session.flush()
    return done


async def escalation_loop(factory: sessionmaker[Session], interval: float) -> None:
    """Run `escalate_overdue` every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(_one_round, factory, datetime.now(UTC))
        except Exception:  # a failed round is logged and retried next time, never fatal
            logger.exception("escalation round failed")


def _one_round(factory: sessionmaker[Session], now: datetime) -> None:
    with factory() as session:
        escalated = escalate_overdue(session, now)
        session.commit()
    if escalated:
        logger.info("escalated %d overdue incident(s)", len(escalated))
