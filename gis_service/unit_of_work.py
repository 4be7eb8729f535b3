"""Where a use case's transaction ends: the use case commits, and what must happen only once
its change is stored (the locator answering from new boundaries, the sweep after a
publication, telling other systems) is registered with `after_commit` and runs then.

SQLAlchemy's own session events carry it (`after_commit`, `after_transaction_end`), so the
work runs whoever commits the session and is dropped if the transaction ends otherwise."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

AFTER_COMMIT = "gis_service.after_commit"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` once the session's current transaction is committed (never if it is not)."""
    session.info.setdefault(AFTER_COMMIT, []).append(work)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    for work in session.info.pop(AFTER_COMMIT, []):
        work()


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    # the session's own transaction ended (after `_run` on a commit): work left is dropped
    if transaction.parent is None:
        session.info.pop(AFTER_COMMIT, None)
