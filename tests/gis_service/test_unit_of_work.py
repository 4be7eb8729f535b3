"""After-commit work runs once the use case's change is stored, and never when it is not."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gis_service.unit_of_work import after_commit


def test_work_runs_after_the_commit_and_sees_the_change(
        session_factory: sessionmaker[Session]) -> None:
    seen: list[int] = []
    with session_factory() as session:
        session.execute(text("CREATE TEMP TABLE uow_probe (n int)"))
        session.execute(text("INSERT INTO uow_probe VALUES (1)"))

        def look() -> None:
            with session_factory() as other:
                seen.append(int(other.scalar(text("SELECT count(*) FROM uow_probe")) or 0))

        after_commit(session, look)
        assert seen == []  # not before the commit
        session.commit()
    assert seen == [1]


def test_work_is_dropped_when_the_transaction_is_rolled_back(
        session_factory: sessionmaker[Session]) -> None:
    ran: list[str] = []
    with session_factory() as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("first"))
        session.rollback()
        session.execute(text("SELECT 1"))
        session.commit()  # a later commit does not run work of the rolled-back transaction
    with session_factory() as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("closed"))
    # closed without a commit (a use case that raised): the work is dropped
    assert ran == []


def test_each_work_runs_once(session_factory: sessionmaker[Session]) -> None:
    ran: list[str] = []
    with session_factory() as session:
        after_commit(session, lambda: ran.append("a"))
        after_commit(session, lambda: ran.append("b"))
        session.commit()
        session.commit()
    assert ran == ["a", "b"]
