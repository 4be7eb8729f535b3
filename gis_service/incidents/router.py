"""/api/v1/incidents: intake, the scoped list, one incident, its history, actions."""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import and_
from sqlalchemy.orm import Session, object_session
from starlette.concurrency import run_in_threadpool

from gis_service import write_keys
from gis_service.auth.deps import PrincipalDep
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import ConflictError, InvalidInputError
from gis_service.etag import IfMatch
from gis_service.incidents import actions, idempotency, queries, service, suggestions
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import RoutingBook, routing_book
from gis_service.incidents.schemas import (
    ActionRequest,
    HistoryEntry,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    LinkRead,
    QueueCounts,
    SuggestionRead,
    SuggestionsRead,
)
from gis_service.incidents.scope import assigned_to, sees_all, visible
from gis_service.incidents.views import EVENT_YELLOW_SHARE, as_seen, sees_contact, to_read

router = APIRouter(prefix="/api/v1", tags=["incidents"])
INTAKE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": IncidentCreate.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


def intake_policy(request: Request) -> service.IntakePolicy:
    """What the settings say about duplicates and placing addresses."""
    return service.intake_policy(context_of(request).settings, context_of(request).incident_ids)


def _share(request: Request) -> float:
    return float(context_of(request).settings.deadline_yellow_share)


def _names(request: Request, session: Session | None) -> RoutingBook | None:
    """The routing book of the current boundaries (it knows every handler's name): the one
    held in memory, else read with `session` when there is one."""
    snapshot = context_of(request).locator.current()
    if snapshot.extra is not None:
        return snapshot.extra
    return routing_book(snapshot, session) if session is not None else None


def _respond(request: Request, principal: Principal, incident: Incident,
             status: int = 200, built: IncidentRead | None = None) -> Response:
    """The incident as the caller sees it; `built`: the view its event carries, taken
    instead of building it again when the service's yellow share is the events' (each report
    taken in with a subscription listening)."""
    share = _share(request)
    if built is not None and share == EVENT_YELLOW_SHARE:
        view = as_seen(built, sees_contact(principal))
    else:
        view = to_read(incident, share, _names(request, object_session(incident)),
                       contact=sees_contact(principal))
    return Response(view.model_dump_json(), status_code=status, media_type="application/json",
                    headers={"ETag": f'"{incident.version}"'})


@router.post("/incidents", status_code=201, response_model=IncidentRead,
             responses={200: {"description": "the same report again: the incident it made"}},
             openapi_extra=INTAKE_BODY)
async def create_incident(request: Request, principal: PrincipalDep,
                          idempotency_key: Annotated[str | None, Header()] = None) -> Response:
    """Report an incident; it is located, routed and recorded. Sending the same source +
    external_id, or the same Idempotency-Key, again returns the first incident (200)."""
    raw = await request.body()
    try:
        body = IncidentCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    writer = context_of(request).intake_writer
    # a key is claimed in the intake's own transaction; a closed writer belongs to a stopped
    # lifespan (a test harness may start a second one on the same app)
    if writer is None or writer.closed or idempotency_key is not None:
        return await run_in_threadpool(_intake, request, principal, body, raw, idempotency_key)
    now = datetime.now(UTC)
    result = await writer.submit(service.Report(principal.username, body, now))
    if result.created:
        return _respond(request, principal, result.incident, 201, result.view)
    if sees_all(principal):  # the incident as committed; nothing to check (camera platforms)
        return _respond(request, principal, result.incident, 200)
    return await run_in_threadpool(_repeated, request, principal, result.incident.id)


def _repeated(request: Request, principal: Principal, incident_id: int) -> Response:
    """The answer to a report sent again, or a camera's detection folded into an incident:
    that incident, when the caller may see it (one query: camera platforms repeat often)."""
    with context_of(request).session_factory() as session:
        incident = service.visible_incident(session, principal, incident_id)
        if incident is None:
            raise ConflictError(service.REPEATED_ELSEWHERE)
        return _respond(request, principal, incident, 200)


def _intake(request: Request, principal: Principal, body: IncidentCreate, raw: bytes,
            key: str | None) -> Response:
    with context_of(request).session_factory() as session:
        result = service.take_report(
            session, context_of(request).locator.current(), principal, body, datetime.now(UTC),
            intake_policy(request), key=key, fingerprint=idempotency.body_hash(raw))
        return _respond(request, principal, result.incident,
                        201 if result.created else 200, result.view)


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        due, last_id = orjson.loads(base64.urlsafe_b64decode(value.encode()))
        return datetime.fromisoformat(due), int(last_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError("the cursor is not one this service gave out") from exc


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError as exc:
        raise InvalidInputError("bbox is west,south,east,north in degrees") from exc
    if not (west < east and south < north):
        raise InvalidInputError("bbox must have west < east and south < north")
    return west, south, east, north


@router.get("/incidents")
def list_incidents(
    request: Request, session: SessionDep, principal: PrincipalDep,
    status: str | None = None, grid: str | None = None, district: str | None = None,
    category: str | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    q: Annotated[str | None, Query(
        max_length=100, description="words of the description or address (each must occur; "
                                    "Chinese needs no spaces: 违章搭建 finds it inside a "
                                    "sentence)")] = None,
    whistle: Annotated[bool | None, Query(
        description="open incidents whose grid called departments (吹哨)")] = None,
    queue: Annotated[str | None, Query(
        description="a dispatcher-console queue: " + ", ".join(queries.QUEUES))] = None,
    assignee: Annotated[Literal["me"] | None, Query(
        description="`me`: only what is assigned to the caller (a grid worker's own post "
                    "and the A posts they cover as B; a squad's or department's own code; "
                    "the command center's own)")] = None,
) -> IncidentPage:
    """Incidents the caller may see, most urgent (earliest due) first, a page at a time.
    `status` may name several states, comma-separated."""
    filters = {"status": status, "grid": grid, "district": district, "category": category,
               "bbox": _bbox(bbox), "overdue": overdue, "whistle": whistle, "q": q, "limit": limit,
               "after": _cursor(cursor), **_queue(queue)}
    scope = visible(principal)
    if assignee == "me" or filters.pop("mine", False):
        scope = and_(scope, assigned_to(principal))
    rows = list(session.scalars(queries.filtered(scope, filters, datetime.now(UTC))))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        assert last.due_at is not None
        next_cursor = base64.urlsafe_b64encode(
            orjson.dumps([last.due_at.isoformat(), last.id])).decode()
    names = _names(request, session)
    contact = sees_contact(principal)
    return IncidentPage(items=[to_read(r, _share(request), names, contact=contact)
                               for r in rows],
                        next_cursor=next_cursor)


def _queue(name: str | None) -> dict[str, object]:
    if name is None:
        return {}
    if name not in queries.QUEUES:
        raise InvalidInputError(f"queue is one of {', '.join(queries.QUEUES)}")
    return queries.QUEUES[name]


@router.get("/incidents/queues")
def queue_counts(session: SessionDep, principal: PrincipalDep) -> QueueCounts:
    """How many incidents the caller may see wait in each dispatcher-console queue."""
    now, scope, mine = datetime.now(UTC), visible(principal), assigned_to(principal)
    return QueueCounts(**{name: queries.count(session, and_(scope, mine) if filters.get("mine")
                                              else scope, filters, now)
                          for name, filters in queries.QUEUES.items()})


@router.get("/incidents/{incident_id}", response_model=IncidentRead)
def get_incident(request: Request, incident_id: int, session: SessionDep,
                 principal: PrincipalDep) -> Response:
    """One incident, with its version as the ETag."""
    return _respond(request, principal, service.get_visible(session, principal, incident_id))


@router.get("/incidents/{incident_id}/history")
def get_history(incident_id: int, session: SessionDep,
                principal: PrincipalDep) -> list[HistoryEntry]:
    """Every change: who, when, what, before and after, why."""
    return [HistoryEntry.model_validate(e, from_attributes=True)
            for e in service.history(session, principal, incident_id)]


@router.get("/incidents/{incident_id}/suggestions")
def get_suggestions(request: Request, incident_id: int, session: SessionDep,
                    principal: PrincipalDep,
                    limit: Annotated[int, Query(ge=1, le=50)] = 10) -> SuggestionsRead:
    """Handlers to dispatch or re-assign to: the rule's pick and its AB backup first, then
    others by distance and workload (command center roles only)."""
    found = suggestions.suggest(session, snapshot=context_of(request).locator.current(),
                                principal=principal, incident_id=incident_id,
                                now=datetime.now(UTC), limit=limit)
    return SuggestionsRead(
        incident_id=found.incident.id, version=found.incident.version,
        status=found.incident.status, candidates=found.candidates,
        suggestions=[SuggestionRead(to=s.to, **asdict(s)) for s in found.items])


@router.get("/incidents/{incident_id}/links")
def get_links(incident_id: int, session: SessionDep, principal: PrincipalDep) -> list[LinkRead]:
    """Possible duplicates (same category, near in place and time, any channel) and merges."""
    return [LinkRead.model_validate(link)
            for link in service.links(session, principal, incident_id)]


@router.post("/incidents/{incident_id}/actions", response_model=IncidentRead,
             responses={409: {"description": "not allowed from the incident's state"},
                        412: {"description": "stale If-Match"},
                        428: {"description": "If-Match missing"}})
def take_action(request: Request, incident_id: int, body: ActionRequest, session: SessionDep,
                principal: PrincipalDep, if_match: IfMatch = None,
                idempotency_key: Annotated[str | None, Header()] = None) -> Response:
    """Move the incident along the loop; send If-Match with the version you saw. With an
    Idempotency-Key, the same action sent again answers with the incident as it is now
    (200) instead of being refused for the version it moved on."""
    now = datetime.now(UTC)
    if idempotency_key is not None and not write_keys.claim(
            session, principal=principal, kind="action", key=idempotency_key,
            request_hash=write_keys.fingerprint(str(incident_id), if_match or "",
                                                body.model_dump_json()),
            incident_id=incident_id, now=now):
        return _respond(request, principal, service.get_visible(session, principal,
                                                                incident_id))
    incident = actions.act(session, context_of(request).locator.current(), principal,
                           incident_id, body, if_match, now)
    return _respond(request, principal, incident)
