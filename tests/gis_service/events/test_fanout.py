"""The outbox's fan-out, on a database of its own (real commits, several connections): a
change writes only its message; the delivery worker fans messages out in id order, one process
at a time, and a message that commits after one with a higher id is fanned out all the
same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from gis_service.events import outbox
from gis_service.events.delivery import FANOUT_LOCK, fan_out
from gis_service.events.models import Delivery, Message, Subscription


@pytest.fixture()
def factory(scratch_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(scratch_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def subscription(session: Session, **selects: list[str]) -> int:
    made = Subscription(url="https://hooks.example.gov.cn/in", events=["plan.published"],
                        secret="whsec_" + "A" * 32, created_by="test",
                        created_at=datetime.now(UTC), **selects)
    session.add(made)
    session.commit()
    return made.id


def plan(session: Session, plan_id: int) -> None:
    outbox.publish_plan(session, plan_id=plan_id, body={"id": plan_id}, at=datetime.now(UTC))


def test_a_change_writes_its_message_only_and_one_process_fans_it_out(
        factory: sessionmaker[Session]) -> None:
    with factory() as session:
        everything = subscription(session)
        subscription(session, sources=["walk_in"])  # a plan has no source: never selected
        subscription(session, areas=["T"])  # nor an area
    with factory() as late, factory() as session, factory() as other:
        plan(late, 1)  # a change that drew its message's id first and commits last
        late.flush()
        plan(session, 2)
        session.commit()
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 1

        assert other.scalar(select(func.pg_try_advisory_xact_lock(FANOUT_LOCK)))
        assert fan_out(session, datetime.now(UTC)) is None  # another process is at it
        other.rollback()
        assert fan_out(session, datetime.now(UTC)) == 1  # plan 2
        assert fan_out(session, datetime.now(UTC)) == 0
        late.commit()
        assert fan_out(session, datetime.now(UTC)) == 1  # plan 1: not skipped for its id

        got = [(d.subscription_id, m.ordering_key, m.id) for d, m in session.execute(
            select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
            .order_by(Delivery.id))]
        assert [(s, key) for s, key, _ in got] == [(everything, "plan:2"),
                                                   (everything, "plan:1")]
        assert got[1][2] < got[0][2]
        assert session.scalar(select(func.count()).select_from(Message)
                              .where(Message.fanned_at.is_(None))) == 0


def test_a_fan_out_step_takes_the_oldest_messages_first(
        factory: sessionmaker[Session]) -> None:
    with factory() as session:
        subscription(session)
        for plan_id in range(1, 6):
            plan(session, plan_id)
        session.commit()
        assert fan_out(session, datetime.now(UTC), batch=2) == 2
        first = session.scalars(select(Message.ordering_key).where(
            Message.fanned_at.is_not(None)).order_by(Message.id)).all()
        assert first == ["plan:1", "plan:2"]
        assert fan_out(session, datetime.now(UTC), batch=2) == 2
        assert fan_out(session, datetime.now(UTC), batch=2) == 1
        assert session.scalar(select(func.count()).select_from(Delivery)) == 5
