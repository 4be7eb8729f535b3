"""Incident use cases: intake (locate, route, record), reading, and the history chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.errors import ConflictError, DomainError, InvalidInputError, NotFoundError
from gis_service.events import outbox
from gis_service.geocode.area import DEFAULT_AREA_NAMES, area_names, service_area
from gis_service.geocode.placing import ask, placing
from gis_service.incidents import idempotency, queries, store, video
from gis_service.incidents.core import deadlines
from gis_service.incidents.core.assigning import route_new
from gis_service.incidents.core.case import EventRow, State, next_event, state_of
from gis_service.incidents.core.detections import confirmed_by_detection, first_routing
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.placing import place
from gis_service.incidents.core.routing import RoutingBook
from gis_service.incidents.ids import IdBlocks
from gis_service.incidents.models import Incident, IncidentEvent, IncidentLink
from gis_service.incidents.routing_book import Snapshot, routing_book
from gis_service.incidents.schemas import IncidentCreate, IncidentRead, Location
from gis_service.incidents.scope import sees_all, visible
from gis_service.locate.located import Located
from gis_service.timeutil import aware
from grid_layers import crs as crs_module
from grid_layers.crs import sphere_distance_m

FOLD_MINUTES: float = Settings.model_fields["video_fold_minutes"].default


@dataclass(frozen=True)
class IntakePolicy:
    """Settings the intake follows: how near in place and time a report of the same category
    is a possible duplicate, and how sure the geocoder must be to place an address."""

    duplicate_radius_m: float
    duplicate_window_hours: float
    geocode_min_confidence: float
    ids: IdBlocks | None = None  # ids reserved ahead; None = one sequence call per report
    # the province, city, county… above the towns (an address naming others is not placed)
    geocode_area_names: tuple[str, ...] = area_names(DEFAULT_AREA_NAMES)
    # a camera's detection folds into its pair's open incident last seen this recently
    video_fold_minutes: float = FOLD_MINUTES


def intake_policy(settings: Settings, ids: IdBlocks | None) -> IntakePolicy:
    """What the settings say about duplicates, placing addresses and folding detections."""
    return IntakePolicy(settings.duplicate_radius_m, settings.duplicate_window_hours,
                        settings.geocode_min_confidence, ids,
                        area_names(settings.service_area_names), settings.video_fold_minutes)


@dataclass(frozen=True)
class IntakeResult:
    """The incident, whether this call created it (False: a repeat of an earlier one), and
    the view its `incident.created` event carries, when one was written."""

    incident: Incident
    created: bool
    view: IncidentRead | None = None


def record(session: Session, incident: Incident, *, actor: str, action: str, at: datetime,
           before: State, note: str = "", detail: dict[str, Any] | None = None) -> None:
    """Append one history row to a stored incident, and the events it makes to the outbox."""
    row = next_event(incident, actor=actor, action=action, at=at, before=before, note=note,
                     detail=detail)
    session.add(IncidentEvent(**row))
    outbox.publish_incident_changes(session, [(incident, row)], at)


def locate(snapshot: Snapshot, location: Location) -> tuple[float, float, Located]:
    """Storage coordinates of a location and where they fall."""
    try:
        crs = crs_module.normalize_crs(location.crs)
    except crs_module.UnknownCRSError as exc:
        raise InvalidInputError(str(exc)) from exc
    lon, lat = crs_module.point_to_storage(location.lon, location.lat, crs)
    return lon, lat, snapshot.where(lon, lat)


REPEATED_ELSEWHERE = "a report with this source and external_id exists already"


def take_report(session: Session, snapshot: Snapshot, principal: Principal, body: IncidentCreate,
                now: datetime, policy: IntakePolicy, *, key: str | None,
                fingerprint: str) -> IntakeResult:
    """One report sent with an Idempotency-Key (or when the group-commit writer is off):
    taken once per key and committed. The same key again gives the first incident; the same
    source + external_id as a report the caller may not see is refused (409) without showing
    it."""
    if key is not None:  # claimed in this transaction: any failure frees it
        earlier = idempotency.claim(session, key=key, account_id=principal.account_id,
                                    fingerprint=fingerprint, now=now)
        if earlier is not None:
            return IntakeResult(get_visible(session, principal, earlier), False)
    result = intake(session, snapshot, principal.username, body, now, policy)
    if key is not None:
        idempotency.complete(session, key=key, account_id=principal.account_id,
                             incident_id=result.incident.id)
    session.commit()
    if not result.created and not sees_all(principal) \
            and not may_see(session, principal, result.incident.id):
        raise ConflictError(REPEATED_ELSEWHERE)
    return result


@dataclass(frozen=True)
class Report:
    """One report to take in: who sent it, what it says, and when it arrived."""

    actor: str
    body: IncidentCreate
    now: datetime


def intake(session: Session, snapshot: Snapshot, actor: str, body: IncidentCreate,
           now: datetime, policy: IntakePolicy | None = None) -> IntakeResult:
    """Store a report once, locate it, route it by the responsibility list, record why."""
    outcome = intake_many(session, snapshot, [Report(actor, body, now)], policy)[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def intake_many(session: Session, snapshot: Snapshot, reports: Sequence[Report],
                policy: IntakePolicy | None = None) -> list[IntakeResult | DomainError]:
    """Take in reports that arrived together, each exactly as if alone; the caller commits
    them once (group commit). A report that cannot be taken gets its error in its place.

    The hot path: each incident is built whole in memory (routing reads the in-memory book),
    possible duplicates of all of them are found in one query (and among themselves), and
    all are written in one statement (incidents, history, links; `store.py`) with ids
    reserved in blocks; a repeat of an earlier report is found by the unique
    (source, external_id). A camera's event that repeats an open incident of the same camera
    and scene folds into it instead (`video.py`): answered with that incident, not created."""
    window = timedelta(minutes=policy.video_fold_minutes if policy else FOLD_MINUTES)
    cameras = video.CameraEvents.read(session, reports, window)
    outcomes: list[IntakeResult | DomainError | None] = [None] * len(reports)
    taken: list[_Taken] = []
    folds: list[_Fold] = []
    repeats: list[tuple[int, Report]] = []  # a (source, external_id) sent twice in the batch
    keys: set[tuple[str, str]] = set()
    for index, report in enumerate(reports):
        key = (report.body.source, report.body.external_id or "")
        if report.body.external_id and key in keys:
            repeats.append((index, report))
            continue
        detection = cameras.found.get(index)
        if isinstance(detection, DomainError):
            outcomes[index] = detection
            continue
        if detection is not None:
            if index in cameras.earlier:  # this detection was taken before
                outcomes[index] = IntakeResult(session.get_one(Incident, cameras.earlier[index]),
                                               False)
                continue
            keys.add(key)
            into = cameras.folds_into(index)
            if into is not None:
                folds.append(_Fold(index, report, into[0], detection, into[1]))
                continue
        try:
            incident, located, detail = _placed(session, snapshot, report, policy, detection)
        except DomainError as exc:
            outcomes[index] = exc
            continue
        keys.add(key)
        incident.id = _next_id(session, policy)
        if detection is not None:
            cameras.opened(index, incident)
        taken.append(_Taken(index, report, incident, located, detail, detection))
    if not taken and not folds:  # nothing to write (no report is a repeat of one not taken)
        return [outcome for outcome in outcomes if outcome is not None]
    book = routing_book(snapshot, session)
    events: list[EventRow] = []
    done: list[Incident] = []
    links: list[tuple[int, int, bool]] = []
    if taken:
        events, links = _routed(session, book, taken, policy)
        done = [t.incident for t in taken]
    changes = _folded(snapshot, book, folds)
    fresh = {incident.id for incident in done}
    events += [row for incident, row in changes if incident.id in fresh]
    written = store.store_many(session, done, events, links) if done else set()
    changes = [(i, row) for i, row in changes if i.id in written or i.id in cameras.stored]
    if folds:
        kept = {i.id for i, _ in changes}
        store.fold_many(session, [i for i in cameras.stored.values() if i.id in kept],
                        [row for i, row in changes if i.id not in fresh],
                        [(f.report.body.external_id, f.into.id, f.report.now) for f in folds
                         if f.report.body.external_id and f.into.id in kept])
    at = max(r.now for r in reports)
    views = outbox.publish_created(
        session, [i for i in done if i.id in written],
        {e["incident_id"]: e for e in events if e["action"] == "report"}, at, book)
    outbox.publish_incident_changes(session, changes, at, book)
    for t in taken:
        if t.incident.id in written:
            outcomes[t.index] = IntakeResult(t.incident, True, views.get(t.incident.id))
        else:
            repeats.append((t.index, t.report))
    for fold in folds:
        outcomes[fold.index] = IntakeResult(fold.into, False)
    for index, report in repeats:
        existing = _earlier(session, report)
        assert existing is not None
        outcomes[index] = IntakeResult(existing, False)
    return [outcome for outcome in outcomes if outcome is not None]


@dataclass(frozen=True)
class _Taken:
    """A report that makes a new incident: where it fell, its report row's detail so far,
    and, for a camera's event, the detection."""

    index: int
    report: Report
    incident: Incident
    located: Located | None
    detail: dict[str, Any]
    detection: video.Detection | None


@dataclass(frozen=True)
class _Fold:
    """A camera's event that folds into an open incident (stored, or new in this batch)."""

    index: int
    report: Report
    into: Incident
    detection: video.Detection
    detail: dict[str, object]


def _routed(session: Session, book: RoutingBook, taken: list[_Taken],
            policy: IntakePolicy | None) -> tuple[list[EventRow], list[tuple[int, int, bool]]]:
    """The new incidents' possible duplicates, history (report, routing) and first routing."""
    near = _stored_duplicates(session, [t.incident for t in taken], policy)
    events: list[EventRow] = []
    links: list[tuple[int, int, bool]] = []
    done: list[Incident] = []
    for t, stored in zip(taken, near, strict=True):
        incident, report, detail = t.incident, t.report, t.detail
        fresh = _fresh_duplicates(session, incident, done, policy)
        duplicates = sorted(stored + fresh)[:10]
        if duplicates:
            detail["possible_duplicates"] = duplicates
            links += [(incident.id, other, other in fresh) for other in duplicates]
        events.append(next_event(incident, actor=report.actor, action="report",
                                 at=report.now, before={}, detail=detail))
        if t.detection is None:
            events += route_new(book, incident, t.located, report.now,
                                aware(report.body.county_due_at))
        else:
            events += first_routing(book, incident, t.located, report.now, t.detection.scene,
                                    t.detection.confidence)
        done.append(incident)
    return events, links


def _folded(snapshot: Snapshot, book: RoutingBook,
            folds: list[_Fold]) -> list[tuple[Incident, EventRow]]:
    """One history row per fold (and the service's own `confirm` when a fold confirms a
    waiting incident), in arrival order, each with the incident it belongs to."""
    changes: list[tuple[Incident, EventRow]] = []
    for fold in folds:
        into, report, detection = fold.into, fold.report, fold.detection
        changes.append((into, next_event(
            into, actor=report.actor, action="detect", at=report.now, before=state_of(into),
            detail={**fold.detail, "external_id": report.body.external_id})))
        if into.status == "needs_confirmation" and into.lon is not None and into.lat is not None:
            confirmed = confirmed_by_detection(
                book, into, snapshot.where(into.lon, into.lat), report.now, detection.scene,
                detection.confidence, detection.seen_at)
            if confirmed is not None:
                changes.append((into, confirmed))
        into.updated_at = max(into.updated_at, report.now)
    return changes


def _earlier(session: Session, report: Report) -> Incident | None:
    """The incident an earlier report of the same source and external id made or, for a
    camera's folded detection, counted into."""
    external_id = report.body.external_id or ""
    existing = queries.by_source(session, report.body.source, external_id)
    if existing is None and report.body.camera_code is not None:
        folded = video.folded_into(session, external_id)
        existing = session.get(Incident, folded) if folded is not None else None
    return existing


def _placed(session: Session, snapshot: Snapshot, report: Report,
            policy: IntakePolicy | None, detection: video.Detection | None = None
            ) -> tuple[Incident, Located | None, dict[str, Any]]:
    """A new incident for the report, placed by its location or address (a camera's event:
    by its location, else at the camera); where it fell, and the report row's detail so
    far."""
    body, now = report.body, report.now
    incident = Incident(
        source=body.source, external_id=body.external_id, category_code=body.category,
        description=body.description, address=body.address,
        reported_at=aware(body.reported_at) or now, status="reported", priority=0,
        zone_codes=[], special_codes=[], cooperating=[], escalation_level=0,
        parent_ticket_id=body.parent_ticket_id, history_head="", history_length=0, version=1,
        contact=body.contact.model_dump() if body.contact else None,
        due_at=deadlines.on_intake(now, aware(body.county_due_at)), created_at=now,
        updated_at=now,
        lon=None, lat=None, geom=None, town_code=None, grid2_code=None, grid3_code=None,
        district_code=None, assignee_type=None, assignee_code=None, respond_due_at=None,
        overdue_since=None,
        resolution=None, satisfaction=None, candidates=None, camera_code=None, scene=None,
        confidence=None, detections=None, last_seen_at=None)
    located = None
    detail: dict[str, Any] = {"channel": body.source, "parent_ticket_id": body.parent_ticket_id}
    if detection is not None:
        _from_camera(incident, detection)
        detail.update(detection.report_detail(body.location is None))
        if body.location is None:
            camera = detection.camera
            located = snapshot.where(camera.lon, camera.lat)
            place(incident, camera.lon, camera.lat, located)
            return incident, located, detail
    if body.location is not None:
        lon, lat, located = locate(snapshot, body.location)
        place(incident, lon, lat, located)
    elif body.address and policy is not None:
        located, detail["geocode"] = _geocode(session, snapshot, incident, body.address, policy)
    return incident, located, detail


def _from_camera(incident: Incident, detection: video.Detection) -> None:
    """A camera's incident: its scene's category, the camera, first seen when detected."""
    incident.category_code = detection.scene.category
    incident.camera_code, incident.scene = detection.camera.code, detection.scene.scene
    incident.confidence, incident.detections = detection.confidence, 1
    incident.reported_at = incident.last_seen_at = detection.seen_at
    if not incident.description:
        incident.description = detection.description()


def _next_id(session: Session, policy: IntakePolicy | None) -> int:
    if policy is not None and policy.ids is not None:
        return policy.ids.next(session)
    return int(session.execute(select(func.nextval("incident_id_seq"))).scalar_one())


def _searched(incident: Incident, policy: IntakePolicy | None) -> bool:
    """Whether possible duplicates of this incident are looked for."""
    return (policy is not None and policy.duplicate_radius_m > 0
            and incident.lon is not None and incident.lat is not None
            and bool(incident.category_code))


def _stored_duplicates(session: Session, incidents: list[Incident],
                       policy: IntakePolicy | None) -> list[list[int]]:
    """For each incident, the stored open ones of its category near it in place and time."""
    searched = [i for i, incident in enumerate(incidents) if _searched(incident, policy)]
    found: list[list[int]] = [[] for _ in incidents]
    if not searched or policy is None:
        return found
    window = timedelta(hours=policy.duplicate_window_hours)
    nearby = [store.Nearby(incidents[i].category_code or "", incidents[i].lon or 0.0,
                           incidents[i].lat or 0.0, incidents[i].created_at - window)
              for i in searched]
    for i, ids in zip(searched, store.possible_duplicates(session, nearby,
                                                          policy.duplicate_radius_m),
                      strict=True):
        found[i] = ids
    return found


def _fresh_duplicates(session: Session, incident: Incident, earlier: list[Incident],
                      policy: IntakePolicy | None) -> list[int]:
    """Possible duplicates among the batch's earlier reports (the query cannot see them);
    one that repeats a stored report's (source, external_id) will not be stored, so is left
    out (looked up only in this rare case)."""
    if policy is None or not _searched(incident, policy):
        return []
    return [other.id for other in earlier
            if other.category_code == incident.category_code and other.status in OPEN_STATES
            and other.lon is not None and other.lat is not None
            and sphere_distance_m(incident.lon or 0.0, incident.lat or 0.0,
                                  other.lon, other.lat) <= policy.duplicate_radius_m
            and (other.external_id is None
                 or queries.by_source(session, other.source, other.external_id) is None)]


def _geocode(session: Session, snapshot: Snapshot, incident: Incident, address: str,
             policy: IntakePolicy) -> tuple[Located | None, dict[str, Any]]:
    """Place a report by its address when the geocoder found the place itself, sure enough,
    in this deployment's area; otherwise keep its candidates (best first) on the incident for
    a dispatcher to pick from (`gis_service/geocode/placing.py`)."""
    area = service_area(snapshot, policy.geocode_area_names)
    found = placing(ask(session, address, min_confidence=policy.geocode_min_confidence,
                        area=area))
    if found.lon is None or found.lat is None:
        incident.candidates = found.candidates
        return None, found.detail
    located = snapshot.where(found.lon, found.lat)
    place(incident, found.lon, found.lat, located)
    return located, found.detail


def may_see(session: Session, principal: Principal, incident_id: int) -> bool:
    """Whether the caller may see the incident."""
    return session.scalar(select(Incident.id).where(Incident.id == incident_id,
                                                    visible(principal))) is not None


def visible_incident(session: Session, principal: Principal, incident_id: int
                     ) -> Incident | None:
    """The incident when the caller may see it, else None."""
    return session.scalar(select(Incident).where(Incident.id == incident_id,
                                                 visible(principal)))


def get_visible(session: Session, principal: Principal, incident_id: int) -> Incident:
    """The incident when the caller may see it; 404 otherwise (existence is not revealed)."""
    incident = session.get(Incident, incident_id)
    if incident is None or not session.scalar(
            select(Incident.id).where(Incident.id == incident_id, visible(principal))):
        raise NotFoundError(f"no incident {incident_id}")
    return incident


def links(session: Session, principal: Principal, incident_id: int) -> list[IncidentLink]:
    """Possible duplicates of, and merges into or from, a visible incident."""
    get_visible(session, principal, incident_id)
    return queries.links(session, incident_id)


def history(session: Session, principal: Principal, incident_id: int) -> list[IncidentEvent]:
    """Every change to a visible incident, in order."""
    get_visible(session, principal, incident_id)
    return queries.events(session, incident_id)
