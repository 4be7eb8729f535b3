"""Re-attributing stored incidents in this process: after a publication, history reported
before it takes the new boundaries (or the old ones again, at an earlier moment); incidents
whose codes do not change are not rewritten; an open one moved gets its regrid history row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.errors import ConflictError, InvalidInputError
from gis_service.incidents.models import Incident
from gis_service.plans.publish import publish_plan
from gis_service.relocate.runner import InProcess
from gis_service.relocate.service import boundaries_at, relocate
from tests.gis_service.plans.test_impact import EAST, STRIP, WEST, add_incident
from tests.gis_service.plans.test_publish import age_town, last_event, moved_plan, row_versions

Codes = tuple[str | None, str | None, str | None]


def codes(session: Session, ids: list[int]) -> dict[int, Codes]:
    session.expire_all()
    return {i.id: (i.town_code, i.grid2_code, i.grid3_code) for i in session.scalars(
        select(Incident).where(Incident.id.in_(ids)))}


def published(session: Session, now: datetime) -> datetime:
    """The strip moved east by a plan published a day ago; its moment."""
    plan = moved_plan(session)
    moment = now - timedelta(days=1)
    publish_plan(session, plan_id=plan.id, actor="planner", effective_from=moment,
                 policy="keep", expected_version=plan.version, now=now)
    return moment


def run(session: Session, at: datetime, **options: object) -> tuple[int, int, int]:
    done = relocate(session, runner=InProcess(), boundaries=boundaries_at(session, at),
                    now=datetime.now(UTC), batch_size=2, **options)  # type: ignore[arg-type]
    return done.points, done.changed, done.written


def test_history_takes_the_boundaries_of_the_moment_asked(db_session: Session,
                                                          town: dict[str, Path]) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    old = now - timedelta(days=300)
    history = add_incident(db_session, *STRIP, reported_at=old)  # closed, in T-A-1 then
    west = add_incident(db_session, *WEST, reported_at=old)
    misplaced = add_incident(db_session, *EAST, reported_at=old, status="dispatched")
    db_session.commit()
    moment = published(db_session, now)
    # the publication re-attributes from its moment on, and open incidents: not the history
    assert codes(db_session, [history])[history] == ("T", "T-A", "T-A-1")
    ids = [history, west, misplaced]
    before = row_versions(db_session, ids)

    assert run(db_session, now, dry_run=True) == (3, 2, 0)
    assert row_versions(db_session, ids) == before

    assert run(db_session, now) == (3, 2, 2)
    assert codes(db_session, ids) == {history: ("T", "T-B", "T-B-1"),
                                      west: ("T", "T-A", "T-A-1"),
                                      misplaced: ("T", "T-B", "T-B-1")}
    assert row_versions(db_session, [west]) == {west: before[west]}  # not rewritten
    assert run(db_session, now) == (3, 0, 0)  # nothing left to change

    # the boundaries before the publication: the strip is T-A-1's again
    assert run(db_session, moment - timedelta(seconds=1)) == (3, 1, 1)
    assert codes(db_session, ids)[history] == ("T", "T-A", "T-A-1")


def test_an_open_incident_moved_gets_its_regrid_row(db_session: Session,
                                                    town: dict[str, Path]) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    wrong = add_incident(db_session, *EAST, reported_at=now - timedelta(days=3),
                         status="dispatched")  # recorded in T-A-1, lies in T-B-1
    db_session.commit()

    assert run(db_session, now) == (1, 1, 1)

    assert codes(db_session, [wrong])[wrong] == ("T", "T-B", "T-B-1")
    event = last_event(db_session, wrong)
    assert event.action == "regrid" and event.detail["handler"] == "kept"
    assert event.detail["relocated_to"] == now.isoformat()
    assert event.detail["from"]["grid3"] == "T-A-1" and event.detail["to"]["grid3"] == "T-B-1"


def test_refusals(db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match="no boundaries"):
        boundaries_at(db_session, long_ago)
    now = datetime.now(UTC)
    add_incident(db_session, *EAST, reported_at=now)
    db_session.commit()
    boundaries = boundaries_at(db_session, now)
    plan = moved_plan(db_session)
    answers = relocate(db_session, runner=InProcess(), boundaries=boundaries, now=now,
                       dry_run=True)
    assert answers.changed == 1
    publish_plan(db_session, plan_id=plan.id, actor="planner", effective_from=now,
                 policy="keep", expected_version=plan.version, now=now)
    # a publication between reading the boundaries and writing: the run stops
    with pytest.raises(ConflictError, match="changed during the run"):
        relocate(db_session, runner=InProcess(), boundaries=boundaries, now=now)
