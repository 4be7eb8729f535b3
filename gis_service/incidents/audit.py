"""`gis-service audit verify`: re-compute every incident's history chain."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.incidents.core.history import broken_links
from gis_service.incidents.models import Incident, IncidentEvent

COLUMNS = ("incident_id", "seq", "at", "actor", "action", "before", "after", "note", "detail",
           "prev_hash", "hash")


def verify_all(session: Session) -> Iterator[tuple[int, list[str]]]:
    """(incident id, problems) for every incident whose chain is broken."""
    heads = {i: h for i, h in session.execute(select(Incident.id, Incident.history_head))}
    rows: dict[int, list[dict[str, object]]] = {}
    stmt = select(*(getattr(IncidentEvent, c) for c in COLUMNS)).order_by(
        IncidentEvent.incident_id, IncidentEvent.seq)
    for row in session.execute(stmt):
        rows.setdefault(row.incident_id, []).append(dict(row._mapping))
    for incident_id in sorted(set(heads) | set(rows)):
        problems = broken_links(rows.get(incident_id, []), heads.get(incident_id, ""))
        if problems:
            yield incident_id, problems
