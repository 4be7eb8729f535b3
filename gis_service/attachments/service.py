"""Photo use cases: attach one to a visible incident (recorded in its history), list, read."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from gis_service.attachments import queries
from gis_service.attachments.models import IncidentPhoto
from gis_service.auth.service import Principal
from gis_service.errors import NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError
from gis_service.incidents import queries as incident_queries
from gis_service.incidents.core.case import state_of
from gis_service.incidents.scope import visible
from gis_service.incidents.service import get_visible, record

# what a file starts with, not what its name or the client says, decides its type
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def sniff(data: bytes) -> str | None:
    """The image type the bytes are (JPEG, PNG or WebP), or None."""
    for magic, content_type in SIGNATURES:
        if data.startswith(magic):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def attach(session: Session, *, principal: Principal, incident_id: int, data: bytes,
           max_bytes: int, now: datetime) -> IncidentPhoto:
    """Store a photo of an incident the caller may see and append it to the history.

    The incident's version stays: a photo changes none of its fields, and a worker who
    uploads before resolving must still hold the version they saw."""
    incident = incident_queries.locked(session, incident_id, visible(principal))
    if incident is None:
        raise NotFoundError(f"no incident {incident_id}")
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"a photo may be at most {max_bytes // (1024 * 1024)} MiB",
                                   max_bytes=max_bytes)
    content_type = sniff(data)
    if content_type is None:
        raise UnsupportedMediaTypeError("send a JPEG, PNG or WebP photo")
    digest = hashlib.sha256(data).hexdigest()
    photo = IncidentPhoto(incident_id=incident.id, content_type=content_type,
                          size_bytes=len(data), sha256=digest, data=data,
                          taken_by=principal.username, created_at=now)
    session.add(photo)
    session.flush()
    record(session, incident, actor=principal.username, action="attach_photo", at=now,
           before=state_of(incident),
           detail={"photo_id": photo.id, "sha256": digest, "content_type": content_type,
                   "size_bytes": len(data)})
    session.commit()
    return photo


def photos(session: Session, *, principal: Principal, incident_id: int) -> list[IncidentPhoto]:
    """The photos of an incident the caller may see."""
    get_visible(session, principal, incident_id)
    return queries.of_incident(session, incident_id)


def photo(session: Session, *, principal: Principal, photo_id: int) -> IncidentPhoto:
    """One photo with its bytes, when the caller may see its incident; 404 otherwise."""
    found = queries.visible_photo(session, photo_id, visible(principal))
    if found is None:
        raise NotFoundError(f"no photo {photo_id}")
    return found
