"""`Idempotency-Key` on the writes a phone may send twice — an incident action, a photo, a
patrol track — so that a request repeated after its answer was lost (the phone page queues
them while offline and sends them again until it hears back) is made once. Reports have theirs
in incidents/idempotency.py.

A key is claimed in the write's own transaction, in the intake's `idempotency_key` table and
namespaced by kind (`<account>:<kind>:<key>`): it commits with the write or not at all, so a
stored key means its write was made. The same key with the same request again makes nothing
and answers with what the first made (an action: the incident as it is now; a photo: that
photo; a track: that track); with another request → 422; while the first is still in flight
→ 409 with Retry-After. For an action the key is checked before If-Match: the repeat of an
action that went through answers 200, not 412 for the version it moved on."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.attachments.models import IncidentPhoto
from gis_service.auth.service import Principal
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.incidents.idempotency import take
from gis_service.incidents.models import IdempotencyKey, Incident
from gis_service.incidents.scope import visible
from gis_service.patrols.models import PatrolTrack
from gis_service.patrols.schemas import PatrolCreate
from gis_service.timeutil import aware

Kind = Literal["action", "photo", "patrol"]
MAX_KEY = 150  # the scoped key must fit the table's 200 characters


def fingerprint(*parts: str | bytes) -> str:
    """What a key is bound to: the request's parts, each length-prefixed."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def claim(session: Session, *, principal: Principal, kind: Kind, key: str, request_hash: str,
          incident_id: int | None, now: datetime) -> bool:
    """True when this transaction now holds the key: make the write, whose commit keeps it.
    False when the key was used before with this same request: answer with what it made.
    422 when it was used with another request, 409 while a request with it is in flight."""
    if not 1 <= len(key) <= MAX_KEY:
        raise InvalidInputError(f"Idempotency-Key must be 1 to {MAX_KEY} characters")
    scoped = f"{principal.account_id}:{kind}:{key}"
    if take(session, scoped=scoped, account_id=principal.account_id, request_hash=request_hash,
            now=now, incident_id=incident_id):
        return True
    stored = session.scalar(select(IdempotencyKey.request_hash)
                            .where(IdempotencyKey.key == scoped))
    if stored != request_hash:
        raise InvalidInputError("this Idempotency-Key was used with a different request")
    return False


def photo_made(session: Session, *, principal: Principal, incident_id: int,
               sha256: str) -> IncidentPhoto:
    """The photo a repeated upload made: these bytes, by the caller, on that incident."""
    found = session.scalar(
        select(IncidentPhoto).join(Incident, Incident.id == IncidentPhoto.incident_id)
        .where(IncidentPhoto.incident_id == incident_id, IncidentPhoto.sha256 == sha256,
               IncidentPhoto.taken_by == principal.username, visible(principal))
        .order_by(IncidentPhoto.id).limit(1))
    if found is None:
        raise NotFoundError(f"no incident {incident_id}")
    return found


def track_made(session: Session, *, principal: Principal, body: PatrolCreate) -> PatrolTrack:
    """The track a repeated upload made: the caller's latest with the same points and span."""
    times = [t for t in body.times() if t is not None]
    started = aware(body.started_at) or (times[0] if times else None)
    ended = aware(body.ended_at) or (times[-1] if times else None)
    query = select(PatrolTrack).where(PatrolTrack.account_id == principal.account_id,
                                      PatrolTrack.point_count == len(body.points))
    if started is not None:
        query = query.where(PatrolTrack.started_at == started)
    if ended is not None:
        query = query.where(PatrolTrack.ended_at == ended)
    found = session.scalar(query.order_by(PatrolTrack.id.desc()).limit(1))
    if found is None:  # an account removed since: nothing to show
        raise NotFoundError("the track of this Idempotency-Key is no longer there")
    return found
