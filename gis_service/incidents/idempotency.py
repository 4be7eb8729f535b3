"""The Idempotency-Key header (IETF draft): a key is claimed in its own transaction before the
intake runs, so a second request with the key sees it at once — in flight (409), with another
body (422), or done (the same incident again)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from gis_service.errors import ConflictError, InvalidInputError
from gis_service.incidents.models import IdempotencyKey


def body_hash(raw: bytes) -> str:
    """The fingerprint a key is bound to."""
    return hashlib.sha256(raw).hexdigest()


def claim(factory: sessionmaker[Session], *, key: str, account_id: int, fingerprint: str,
          now: datetime) -> int | None:
    """None when this request now owns the key; the incident id when the key was used
    before with the same body. 409 while the first request is in flight, 422 for a new body."""
    if not 1 <= len(key) <= 200:
        raise InvalidInputError("Idempotency-Key must be 1 to 200 characters")
    scoped = f"{account_id}:{key}"  # keys are per account, as the draft allows
    with factory() as session:
        claimed = session.execute(
            insert(IdempotencyKey).values(key=scoped, account_id=account_id,
                                          request_hash=fingerprint, created_at=now)
            .on_conflict_do_nothing().returning(IdempotencyKey.key)).first()
        session.commit()
        if claimed is not None:
            return None
        row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == scoped))
    assert row is not None
    if row.incident_id is None:
        raise ConflictError("a request with this Idempotency-Key is still being processed")
    if row.request_hash != fingerprint:
        raise InvalidInputError("this Idempotency-Key was used with a different request body")
    return row.incident_id


def complete(session: Session, *, key: str, account_id: int, incident_id: int) -> None:
    """Bind the key to the incident, in the intake's own transaction."""
    row = session.get(IdempotencyKey, f"{account_id}:{key}")
    assert row is not None
    row.incident_id = incident_id


def release(factory: sessionmaker[Session], *, key: str, account_id: int) -> None:
    """Free a key whose request failed, so that it can be retried."""
    with factory() as session:
        session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.key == f"{account_id}:{key}", IdempotencyKey.incident_id.is_(None)))
        session.commit()
