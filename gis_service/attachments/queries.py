"""Photo SQL: an incident's photos, and one photo with its bytes when its incident is visible."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, undefer

from gis_service.attachments.models import IncidentPhoto
from gis_service.incidents.models import Incident


def of_incident(session: Session, incident_id: int) -> list[IncidentPhoto]:
    """An incident's photos, oldest first (without their bytes)."""
    stmt = (select(IncidentPhoto).where(IncidentPhoto.incident_id == incident_id)
            .order_by(IncidentPhoto.id))
    return list(session.scalars(stmt))


def visible_photo(session: Session, photo_id: int,
                  scope: ColumnElement[bool]) -> IncidentPhoto | None:
    """One photo with its bytes, when its incident meets `scope`."""
    stmt = (select(IncidentPhoto).options(undefer(IncidentPhoto.data))
            .join(Incident, Incident.id == IncidentPhoto.incident_id)
            .where(IncidentPhoto.id == photo_id, scope))
    return session.scalar(stmt)
