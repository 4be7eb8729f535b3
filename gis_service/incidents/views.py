"""An incident as the API shows it: one view for the answers and for the events sent out."""

from __future__ import annotations

from datetime import UTC, datetime

from gis_service.auth.permissions import CENTER
from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.incidents.contact import masked
from gis_service.incidents.core.deadlines import deadline_state
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import RoutingBook
from gis_service.incidents.schemas import Assignee, ContactRead, IncidentRead

# the deadline colour in an event's body is as of the change, at the packaged yellow share
# (the outbox is not handed the settings)
EVENT_YELLOW_SHARE: float = Settings.model_fields["deadline_yellow_share"].default


def sees_contact(principal: Principal) -> bool:
    """Whether the caller sees reporters' contact details whole: the command center does."""
    return principal.role in CENTER


def to_read(incident: Incident, yellow_share: float, names: RoutingBook | None = None, *,
            contact: bool = False) -> IncidentRead:
    """The API view of an incident (with its handler's name when `names` knows it; the
    reporter's contact whole only when `contact`, masked otherwise)."""
    assignee = None
    if incident.assignee_type and incident.assignee_code:
        name = names.handler_name(incident.assignee_type, incident.assignee_code) if names else None
        assignee = Assignee(type=incident.assignee_type, code=incident.assignee_code, name=name)
    return IncidentRead(
        id=incident.id, status=incident.status, source=incident.source,
        external_id=incident.external_id, category=incident.category_code,
        description=incident.description, address=incident.address, lon=incident.lon,
        lat=incident.lat, town=incident.town_code, grid2=incident.grid2_code,
        grid3=incident.grid3_code, district=incident.district_code,
        zones=list(incident.zone_codes), special=list(incident.special_codes),
        assignee=assignee, cooperating=list(incident.cooperating), priority=incident.priority,
        escalation_level=incident.escalation_level, respond_due_at=incident.respond_due_at,
        due_at=incident.due_at,
        deadline_state=deadline_state(incident, datetime.now(UTC), yellow_share),
        overdue_since=incident.overdue_since,
        parent_ticket_id=incident.parent_ticket_id,
        contact=incident.contact if contact else masked(incident.contact),
        resolution=incident.resolution, satisfaction=incident.satisfaction,
        candidates=incident.candidates, camera_code=incident.camera_code,
        scene=incident.scene, confidence=incident.confidence,
        detections=incident.detections, last_seen_at=incident.last_seen_at,
        version=incident.version,
        reported_at=incident.reported_at, created_at=incident.created_at,
        updated_at=incident.updated_at)


def as_seen(view: IncidentRead, contact: bool) -> IncidentRead:
    """A view built with the contact whole (an event's) as a caller sees it: the contact
    masked unless `contact`."""
    if contact or view.contact is None:
        return view
    return view.model_copy(update={"contact": ContactRead.model_validate(
        masked(view.contact.model_dump()))})
