"""Writing events into the outbox, in the transaction of the change they tell of.

Each use case that stores a change of an incident (an action, the scheduler's escalation, a
report taken in) hands its history rows here through `incidents.service`; a published plan
comes from `plans.publish`. Bodies are built only for event types some enabled subscription
selects (one small query), and `sql/emit.sql` stores them as messages, each with what
subscriptions select by (source, areas, town, assignee), and nothing else: the transaction of
the change writes no delivery rows. The delivery worker fans the messages out to the
subscriptions whose sources, areas and assignees select them (`delivery.fan_out`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from gis_service import sql_files
from gis_service.events.catalog import PLAN_PUBLISHED, types_of
from gis_service.incidents.core.case import EventRow
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.incidents.routing_book import RoutingBook
from gis_service.incidents.schemas import HistoryEntry, IncidentRead
from gis_service.incidents.views import EVENT_YELLOW_SHARE, to_read

# both run on the driver connection for every batch of reports taken in: through SQLAlchemy
# each cost ~150-350 µs of Python, most of the outbox's cost to a batch of a few reports
EMIT = sql_files.for_driver(sql_files.load(Path(__file__).resolve().parent / "sql", "emit"))
WANTED_TYPES = "SELECT DISTINCT unnest(events) FROM webhook_subscription WHERE enabled"


WANTED = "gis_service.events.wanted"


def wanted(session: Session) -> set[str]:
    """The event types some enabled subscription selects, read once per transaction (a plan
    that re-grids a thousand incidents asks once)."""
    if WANTED not in session.info:
        rows = sql_files.driver(session).execute(WANTED_TYPES, prepare=True)
        session.info[WANTED] = {kind for kind, in rows}
    known: set[str] = session.info[WANTED]
    return known


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next transaction sees subscriptions made meanwhile
        session.info.pop(WANTED, None)


def _uid() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _change(row: EventRow) -> orjson.Fragment:
    return orjson.Fragment(HistoryEntry.model_validate(row).model_dump_json())


def _handling_record(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                           .order_by(IncidentEvent.seq))
    return [HistoryEntry.model_validate(r, from_attributes=True).model_dump(mode="json")
            for r in rows]


def _incident_messages(session: Session, incident: Incident, row: EventRow,
                       kinds: list[str], view: IncidentRead) -> list[dict[str, Any]]:
    # whole: the delivery masks the contact for subscriptions not allowed it. The view goes
    # into the message as JSON already written (pydantic's serializer, once per row), not as
    # a dict for orjson to write again: the hot path of every report taken in
    body = orjson.Fragment(view.model_dump_json())
    assignee = (f"{incident.assignee_type}:{incident.assignee_code}"
                if incident.assignee_type and incident.assignee_code else None)
    areas = [code for code in (incident.town_code, incident.grid2_code, incident.grid3_code,
                               incident.district_code) if code]
    change = _change(row)
    messages = []
    for kind in kinds:
        data: dict[str, Any] = {"incident": body, "change": change}
        if kind == "enforcement.result":  # the case's whole handling record goes with it
            data["history"] = _handling_record(session, incident.id)
        messages.append({
            "uid": _uid(), "type": kind, "ordering_key": f"incident:{incident.id}",
            "incident_id": incident.id, "version": incident.version, "at": row["at"],
            "payload": {"type": kind, "timestamp": row["at"], "data": data},
            "source": incident.source, "town": incident.town_code, "areas": areas,
            "assignee": assignee})
    return messages


def publish_incident_changes(session: Session, changes: Iterable[tuple[Incident, EventRow]],
                             now: datetime, names: RoutingBook | None = None
                             ) -> dict[int, IncidentRead]:
    """Events for stored history rows (each with its incident as it stands after the row),
    in the order given. The views of the incidents the events carry (the contact whole, at
    `EVENT_YELLOW_SHARE`), by id: an answer about the same incident need not build its own."""
    types = wanted(session)
    if not types:
        return {}
    views: dict[int, IncidentRead] = {}
    messages: list[dict[str, Any]] = []
    for incident, row in changes:
        kinds = [t for t in types_of(row["action"], incident.resolution) if t in types]
        if kinds:
            view = views[incident.id] = to_read(incident, EVENT_YELLOW_SHARE, names,
                                                contact=True)
            messages += _incident_messages(session, incident, row, kinds, view)
    _emit(session, messages)
    return views


def publish_created(session: Session, incidents: Sequence[Incident],
                    first_rows: dict[int, EventRow], now: datetime,
                    names: RoutingBook | None) -> dict[int, IncidentRead]:
    """One `incident.created` per report taken in, with the incident as routed; the views
    the events carry, by incident id."""
    return publish_incident_changes(session, ((i, first_rows[i.id]) for i in incidents), now,
                                    names)


def publish_plan(session: Session, *, plan_id: int, body: dict[str, Any],
                 at: datetime) -> None:
    """A `plan.published` event with the plan's summary."""
    if PLAN_PUBLISHED not in wanted(session):
        return
    _emit(session, [{"uid": _uid(), "type": PLAN_PUBLISHED, "ordering_key": f"plan:{plan_id}",
                     "incident_id": None, "version": None, "at": at,
                     "payload": {"type": PLAN_PUBLISHED, "timestamp": at,
                                 "data": {"plan": body}},
                     "source": None, "town": None, "areas": [], "assignee": None}])


def _emit(session: Session, messages: list[dict[str, Any]]) -> None:
    if not messages:
        return
    for order, message in enumerate(messages):
        message["ord"] = order
    sql_files.driver(session).execute(EMIT, {"messages": orjson.dumps(messages).decode()},
                                      prepare=True)
