"""The incident as the rules see it, and the history row each change adds.

`Case` names the fields the rules read and change. The stored incident (the ORM's `Incident`)
is one; the bulk import's lightweight draft is another: mypy checks that both have them, so
the import replays exactly the rules intake follows without building an ORM object a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

from gis_service.incidents.core.history import GENESIS, event_hash

State = dict[str, Any]  # the fields an action may change, as the history's JSON records them


class Case(Protocol):
    """What routing, deadlines and the history read and change."""

    id: int
    category_code: str | None
    status: str
    lon: float | None
    lat: float | None
    grid3_code: str | None
    assignee_type: str | None
    assignee_code: str | None
    cooperating: list[str]
    priority: int
    escalation_level: int
    respond_due_at: datetime | None
    due_at: datetime | None
    overdue_since: datetime | None
    resolution: str | None
    satisfaction: int | None
    version: int
    history_head: str
    history_length: int


class Placeable(Case, Protocol):
    """A case with every code a place gives it (the stored incident)."""

    geom: Any
    town_code: str | None
    grid2_code: str | None
    district_code: str | None
    zone_codes: list[str]
    special_codes: list[str]


class EventRow(TypedDict):
    """One history row's values, chained to the row before."""

    incident_id: int
    seq: int
    at: datetime
    actor: str
    action: str
    before: State
    after: State
    note: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def state_of(case: Case) -> State:
    """The fields an action may change, as the history records them."""
    return {
        "status": case.status, "assignee_type": case.assignee_type,
        "assignee_code": case.assignee_code, "cooperating": list(case.cooperating),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "overdue_since": case.overdue_since.isoformat() if case.overdue_since else None,
        "category": case.category_code,
        "priority": case.priority, "escalation_level": case.escalation_level,
        "resolution": case.resolution, "satisfaction": case.satisfaction,
        "grid3": case.grid3_code, "lon": case.lon, "lat": case.lat,
        "version": case.version,
    }


def next_event(case: Case, *, actor: str, action: str, at: datetime, before: State,
               note: str = "", detail: dict[str, Any] | None = None) -> EventRow:
    """The next history row's values, chained to the one before it; moves the case's head
    and length along."""
    seq = case.history_length + 1
    after = state_of(case)
    detail = detail or {}
    prev_hash = case.history_head or GENESIS
    digest = event_hash(prev_hash=prev_hash, incident_id=case.id, seq=seq, at=at, actor=actor,
                        action=action, before=before, after=after, note=note, detail=detail)
    case.history_length, case.history_head = seq, digest
    return EventRow(incident_id=case.id, seq=seq, at=at, actor=actor, action=action,
                    before=before, after=after, note=note, detail=detail, prev_hash=prev_hash,
                    hash=digest)
