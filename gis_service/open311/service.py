"""Open311 use cases over the responsibility list and the incidents: the towns served, list
services and their definitions, report (committed), search, read one, resolve a token."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gis_service.errors import NotFoundError
from gis_service.grids.models import GridVersion, LayerChange
from gis_service.grids.queries import valid_at
from gis_service.incidents import service as incidents
from gis_service.incidents.core.case import state_of
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.open311 import attributes, mapping, tokens
from gis_service.open311.mapping import RequestQuery, ServiceRequestCreate
from gis_service.responsibilities.models import Category

ACTOR = "open311"
# The incident has no column for a media URL, so an Open311 report's link is kept as one
# more row of its (append-only) history, right after the intake's own rows.
MEDIA_ACTION = "attach_media"
# The `severity` attribute raising the priority after intake (which has no priority field)
PRIORITY_ACTION = "set_priority"


def jurisdictions(session: Session, *, now: datetime, alias: str | None) -> list[str]:
    """The jurisdiction ids served: the current level-1 grids' codes (towns), and the alias."""
    stmt = (select(GridVersion.code).where(valid_at(now), GridVersion.level == 1)
            .order_by(GridVersion.code))
    return [*session.scalars(stmt), *([alias] if alias else [])]


def check_jurisdiction(session: Session, jurisdiction_id: str | None, *, now: datetime,
                       alias: str | None) -> None:
    """Nothing when `jurisdiction_id` is absent or names a town served; 404 otherwise."""
    if jurisdiction_id and jurisdiction_id not in jurisdictions(session, now=now, alias=alias):
        raise NotFoundError(f"jurisdiction_id {jurisdiction_id!r} was not found")


def changeset(session: Session) -> datetime | None:
    """When the services last changed: the newest import of the responsibility list."""
    return session.scalar(select(func.max(LayerChange.changed_at))
                          .where(LayerChange.kind == "responsibilities"))


def list_services(session: Session) -> list[dict[str, Any]]:
    """Every category of the responsibility list as an Open311 service."""
    categories = session.scalars(select(Category).order_by(Category.code))
    return [mapping.service_entry(c, metadata=bool(attributes.attributes_of(c.code)))
            for c in categories]


def service_definition(session: Session, service_code: str) -> dict[str, Any]:
    """One service's definition with its attributes; 404 when the code is unknown."""
    return attributes.definition(_category(session, service_code).code)


def _category(session: Session, service_code: str) -> Category:
    category = session.scalar(select(Category).where(Category.code == service_code))
    if category is None:
        raise NotFoundError(f"service_code {service_code!r} was not found")
    return category


def submit(session: Session, *, snapshot: LocatorSnapshot, submission: ServiceRequestCreate,
           now: datetime, policy: incidents.IntakePolicy | None = None) -> Incident:
    """Report through the ordinary intake (located, routed, recorded), with the attributes
    checked against the service's definition (400) and applied."""
    _category(session, submission.service_code)  # Open311 takes only the listed services
    accepted = attributes.accept(submission.service_code, submission.attribute)
    body = mapping.incident_create(submission, accepted.lines)
    result = incidents.intake(session, snapshot, ACTOR, body, now, policy)
    if not submission.media_url and accepted.priority <= result.incident.priority:
        session.commit()
        return result.incident
    # the intake may write with Core inserts: change and record the incident as stored
    incident = session.get(Incident, result.incident.id)
    assert incident is not None
    if accepted.priority > incident.priority:
        before = state_of(incident)
        incident.priority = accepted.priority
        incident.version += 1
        incidents.record(session, incident, actor=ACTOR, action=PRIORITY_ACTION, at=now,
                         before=before, detail={"attribute": accepted.values})
    if submission.media_url:
        incidents.record(session, incident, actor=ACTOR, action=MEDIA_ACTION, at=now,
                         before=state_of(incident),
                         detail={"media_url": submission.media_url})
    session.commit()
    return incident


def resolve_token(session: Session, token: str, *, key: str) -> list[dict[str, Any]]:
    """The request a token names, as Open311 answers; 404 for a token we never gave out."""
    wanted = tokens.request_id_of(token, key=key)
    found = session.get(Incident, wanted) if wanted is not None else None
    if found is None or found.source != ACTOR:
        raise NotFoundError(f"token {token!r} was not found")
    return [{"service_request_id": str(found.id), "token": tokens.token_for(found.id, key=key)}]


def find_requests(session: Session, query: RequestQuery) -> list[dict[str, Any]]:
    """The public view of the incidents a search names, newest first, at most 1000."""
    return _entries(session, list(session.scalars(_search(query))))


def get_request(session: Session, service_request_id: str) -> list[dict[str, Any]]:
    """One request, in a list as Open311 answers it; 404 when there is none."""
    wanted = mapping.request_id(service_request_id)
    incident = session.get(Incident, wanted) if wanted is not None else None
    if incident is None:
        raise NotFoundError(f"service_request_id {service_request_id!r} was not found")
    return _entries(session, [incident])


def _search(query: RequestQuery) -> Select[Incident]:
    stmt = select(Incident)
    if query.ids:  # Open311: the ids override every other argument
        stmt = stmt.where(Incident.id.in_(query.ids))
    else:
        stmt = stmt.where(Incident.reported_at >= query.start,
                          Incident.reported_at <= query.end)
        if query.codes:
            stmt = stmt.where(Incident.category_code.in_(query.codes))
        if query.states is not None:
            stmt = stmt.where(Incident.status.in_(query.states))
    return (stmt.order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(mapping.MAX_RESULTS))


def _entries(session: Session, found: list[Incident]) -> list[dict[str, Any]]:
    names = {code: name for code, name in session.execute(select(Category.code, Category.name))}
    media = _media_urls(session, [i.id for i in found if i.source == ACTOR])
    return [mapping.request_entry(i, names.get(i.category_code or ""), media.get(i.id))
            for i in found]


def _media_urls(session: Session, incident_ids: Iterable[int]) -> dict[int, str]:
    ids = list(incident_ids)
    if not ids:
        return {}
    stmt = (select(IncidentEvent.incident_id, IncidentEvent.detail["media_url"].astext)
            .where(IncidentEvent.incident_id.in_(ids), IncidentEvent.action == MEDIA_ACTION)
            .order_by(IncidentEvent.seq))
    return {incident_id: url for incident_id, url in session.execute(stmt)}
