"""The Idempotency-Key header (IETF draft): the key is claimed inside the intake's own
transaction, so it is bound to the incident when that commits and freed by any failure — a
client error, a restart of the database, a killed service — with nothing left to release.

A second request with the key while the first is in flight waits on the first's uncommitted
claim; it waits `IN_FLIGHT_WAIT` at most and is then told so (409). Once the first has
committed, the key answers with the same incident (same body) or 422 (another body)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from psycopg import errors as pg_errors
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gis_service.errors import ConflictError, InvalidInputError
from gis_service.incidents.models import IdempotencyKey

IN_FLIGHT_WAIT = "100ms"  # a first request's intake takes a few milliseconds


def body_hash(raw: bytes) -> str:
    """The fingerprint a key is bound to."""
    return hashlib.sha256(raw).hexdigest()


def take(session: Session, *, scoped: str, account_id: int, request_hash: str, now: datetime,
         incident_id: int | None = None) -> bool:
    """Insert the key's row in this transaction: True when it is now ours, False when a
    committed row has it (the caller compares). 409 while another transaction holds it (its
    uncommitted row is waited on for `IN_FLIGHT_WAIT` only)."""
    before = session.scalar(text("SELECT current_setting('lock_timeout')"))
    session.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                    {"wait": IN_FLIGHT_WAIT})
    try:
        claimed = session.execute(
            insert(IdempotencyKey).values(key=scoped, account_id=account_id,
                                          request_hash=request_hash, incident_id=incident_id,
                                          created_at=now)
            .on_conflict_do_nothing().returning(IdempotencyKey.key)).first()
    except OperationalError as exc:
        if not isinstance(exc.orig, pg_errors.LockNotAvailable):
            raise
        session.rollback()
        raise ConflictError("a request with this Idempotency-Key is still being processed",
                            retry_after=1) from exc
    session.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": before})
    return claimed is not None


def claim(session: Session, *, key: str, account_id: int, fingerprint: str,
          now: datetime) -> int | None:
    """None when this transaction now holds the key; the incident id when the key was used
    before with the same body. 409 while another request holds it, 422 for a new body."""
    if not 1 <= len(key) <= 200:
        raise InvalidInputError("Idempotency-Key must be 1 to 200 characters")
    scoped = f"{account_id}:{key}"  # keys are per account, as the draft allows
    if take(session, scoped=scoped, account_id=account_id, request_hash=fingerprint, now=now):
        return None
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == scoped))
    assert row is not None
    if row.incident_id is None:
        # committed without an incident: left by a request that failed before claims were
        # made in the intake's transaction; this request takes it over
        session.execute(update(IdempotencyKey).where(IdempotencyKey.key == scoped)
                        .values(request_hash=fingerprint, created_at=now))
        return None
    if row.request_hash != fingerprint:
        raise InvalidInputError("this Idempotency-Key was used with a different request body")
    return row.incident_id


def complete(session: Session, *, key: str, account_id: int, incident_id: int) -> None:
    """Bind the key to the incident, in the intake's own transaction."""
    row = session.get(IdempotencyKey, f"{account_id}:{key}")
    assert row is not None
    row.incident_id = incident_id
