"""Publishing a plan: new versions from effective_from, answers by time, incidents re-attributed
from then on, open incidents kept or re-routed with their history, refusals and roll-back."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_service.grids.models import GridVersion
from gis_service.incidents.audit import verify_all
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.plans import publish as publish_module
from gis_service.plans.drafts import create_plan
from gis_service.plans.models import Plan, PlanPublication
from tests.gis_service.plans.test_impact import (
    STRIP,
    WEST,
    add_incident,
    move_strip,
    set_shapes,
)
from tests.town import handler

Headers = dict[str, str]
STORAGE = {"crs": "cgcs2000"}


def age_town(session: Session, days: int = 400) -> None:
    """Make the test town's versions as if imported `days` ago (only a test may rewrite
    history, with the immutability trigger off inside its own transaction)."""
    session.execute(text("ALTER TABLE grid_version DISABLE TRIGGER grid_version_immutable"))
    session.execute(text("UPDATE grid_version SET valid_from = valid_from - "
                         "make_interval(days => :days)"), {"days": days})
    session.execute(text("ALTER TABLE grid_version ENABLE TRIGGER grid_version_immutable"))
    session.commit()


def report(client: TestClient, headers: Headers, lon: float, lat: float) -> dict[str, Any]:
    """An open GARBAGE report at a point, routed by the service."""
    answer = client.post("/api/v1/incidents", headers=headers, json={
        "source": "hotline_12345", "category": "GARBAGE", "description": "垃圾",
        "location": {"lon": lon, "lat": lat, **STORAGE}})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def publish(client: TestClient, headers: Headers, plan_id: int, effective_from: datetime,
            policy: str = "keep", version: int = 1) -> Any:
    """POST the publication."""
    return client.post(f"/api/v1/plans/{plan_id}/publish",
                       json={"effective_from": effective_from.isoformat(), "policy": policy},
                       headers={**headers, "If-Match": f'"{version}"'})


def grid3_at(client: TestClient, headers: Headers, point: tuple[float, float],
             at: datetime | None) -> str:
    """The level-3 grid `locate` answers for a point at a moment."""
    params: dict[str, Any] = {"lon": point[0], "lat": point[1], **STORAGE}
    if at is not None:
        params["at"] = at.isoformat()
    answer = client.get("/api/v1/locate", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["grid3"]["code"])


def moved_plan(session: Session) -> Plan:
    """A draft moving the strip east, committed."""
    plan = create_plan(session, owner="planner", name="东移")
    move_strip(session, plan)
    session.commit()
    return plan


def last_event(session: Session, incident_id: int) -> IncidentEvent:
    """The newest history row of an incident."""
    return session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                           .order_by(IncidentEvent.seq.desc()).limit(1)).one()


def test_publish_versions_answers_by_time_and_keeps_handlers(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    effective = now - timedelta(days=10)
    before_id = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=20))
    after_id = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=5))
    db_session.commit()
    opened = report(client, auth, *STRIP)
    assert handler(opened) == ("grid_worker", "W1")
    plan = moved_plan(db_session)

    answer = publish(client, auth, plan.id, effective)

    assert answer.status_code == 201, answer.text
    summary = answer.json()["summary"]
    assert (summary["changed"], summary["new"], summary["deleted"], summary["unchanged"]) == (
        4, 0, 0, 4)
    assert summary["incidents_reattributed"] == 2  # the one after effective_from, the open one
    assert (summary["open_incidents"], summary["open_kept"], summary["open_rerouted"]) == (
        1, 1, 0)
    db_session.expire_all()
    versions = db_session.scalars(select(GridVersion).where(GridVersion.code == "T-A-1")
                                  .order_by(GridVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].valid_to == effective and versions[1].valid_from == effective
    assert versions[1].valid_to is None and versions[1].source.startswith(f"plan {plan.id}")
    assert len(db_session.scalars(select(GridVersion).where(GridVersion.code == "T-A-2"))
               .all()) == 1  # unchanged grids are untouched
    assert grid3_at(client, auth, STRIP, effective - timedelta(days=1)) == "T-A-1"
    assert grid3_at(client, auth, STRIP, effective + timedelta(days=1)) == "T-B-1"
    assert grid3_at(client, auth, STRIP, None) == "T-B-1"
    old = client.get("/api/v1/grids/T-A-1", headers=auth,
                     params={"at": (effective - timedelta(days=1)).isoformat()}).json()
    new = client.get("/api/v1/grids/T-A-1", headers=auth).json()
    assert shapely.geometry.shape(old["geometry"]).bounds[2] == 120.41
    assert shapely.geometry.shape(new["geometry"]).bounds[2] == 120.408
    before, after = db_session.get(Incident, before_id), db_session.get(Incident, after_id)
    assert before is not None and after is not None
    assert (before.grid3_code, before.grid2_code) == ("T-A-1", "T-A")  # history stays
    assert (after.grid3_code, after.grid2_code) == ("T-B-1", "T-B")
    kept = db_session.get(Incident, opened["id"])
    assert kept is not None and kept.grid3_code == "T-B-1"
    assert (kept.assignee_code, kept.status, kept.version) == ("W1", "dispatched", 1)
    event = last_event(db_session, kept.id)
    assert event.action == "regrid" and event.actor == "admin"
    assert event.detail["handler"] == "kept" and event.detail["policy"] == "keep"
    assert event.detail["from"]["grid3"] == "T-A-1" and event.detail["to"]["grid3"] == "T-B-1"
    assert event.before["grid3"] == "T-A-1" and event.after["grid3"] == "T-B-1"
    assert list(verify_all(db_session)) == []
    record = db_session.scalars(select(PlanPublication)
                                .where(PlanPublication.plan_id == plan.id)).one()
    assert (record.published_by, record.policy, record.effective_from) == (
        "admin", "keep", effective)
    assert db_session.get(Plan, plan.id).status == "published"  # type: ignore[union-attr]
    again = publish(client, auth, plan.id, now, version=2)
    assert again.status_code == 409, again.text


def test_reroute_hands_open_incidents_to_the_new_grid(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    age_town(db_session)
    opened = report(client, auth, *STRIP)
    plan = moved_plan(db_session)

    answer = publish(client, auth, plan.id, datetime.now(UTC) - timedelta(days=1), "reroute")

    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["open_rerouted"] == 1
    db_session.expire_all()
    moved = db_session.get(Incident, opened["id"])
    assert moved is not None
    # T-B-1's A post W3 is off duty: its B post W4 takes it
    assert (moved.assignee_type, moved.assignee_code) == ("grid_worker", "W4")
    assert (moved.status, moved.version, moved.grid3_code) == ("dispatched", 2, "T-B-1")
    event = last_event(db_session, moved.id)
    assert event.action == "regrid" and event.detail["handler"] == "rerouted"
    assert event.detail["assignee"] == "grid_worker:W4"
    assert event.before["assignee_code"] == "W1" and event.after["assignee_code"] == "W4"
    assert list(verify_all(db_session)) == []
    history = client.get(f"/api/v1/incidents/{moved.id}/history", headers=auth)
    assert history.status_code == 200 and "regrid" in history.text


def test_refusals(client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers,
                  token_for: Callable[..., Headers]) -> None:
    age_town(db_session, days=5)
    gap = create_plan(db_session, owner="planner", name="缺口")
    set_shapes(db_session, gap, {"T-A-1": shapely.box(120.40, 30.90, 120.408, 30.91)})
    db_session.commit()
    invalid = publish(client, auth, gap.id, datetime.now(UTC))
    assert invalid.status_code == 422, invalid.text
    assert {p["type"] for p in invalid.json()["problems"]} >= {"gap"}
    # the editor shows the refusal and each problem as they come: in Chinese
    assert invalid.json()["detail"] == "方案未通过校验：请先修正问题再发布"
    assert any("未被其三级网格覆盖" in p["message"] for p in invalid.json()["problems"])
    plan = moved_plan(db_session)
    early = publish(client, auth, plan.id, datetime.now(UTC) - timedelta(days=6))
    assert early.status_code == 409 and "newest_valid_from" in early.json()
    assert early.json()["detail"].startswith("生效时间须晚于 ")
    stale = publish(client, auth, plan.id, datetime.now(UTC), version=7)
    assert stale.status_code == 412 and "请重新载入" in stale.json()["detail"]
    assert client.post(f"/api/v1/plans/{plan.id}/publish", headers=auth, json={
        "effective_from": datetime.now(UTC).isoformat()}).status_code == 428
    assert publish(client, token_for("commander"), plan.id,
                   datetime.now(UTC)).status_code == 403
    unchanged = create_plan(db_session, owner="planner", name="原样")
    db_session.commit()
    nothing = publish(client, auth, unchanged.id, datetime.now(UTC))
    assert nothing.status_code == 409
    assert nothing.json()["detail"] == "方案与现行边界相比没有任何变化"
    assert publish(client, token_for("planner"), plan.id, datetime.now(UTC)).status_code == 201


def test_roll_back_publishes_the_earlier_shapes_again(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    original = {v.code: shapely.from_wkb(bytes(v.geom.data))
                for v in db_session.scalars(select(GridVersion))}
    plan = moved_plan(db_session)
    assert publish(client, auth, plan.id, now - timedelta(days=10)).status_code == 201
    back = create_plan(db_session, owner="planner", name="回退", at=now - timedelta(days=20))
    db_session.commit()

    answer = publish(client, auth, back.id, now - timedelta(days=1))

    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["changed"] == 4
    db_session.expire_all()
    current = db_session.scalars(select(GridVersion).where(GridVersion.valid_to.is_(None))).all()
    for version in current:
        assert shapely.equals(shapely.from_wkb(bytes(version.geom.data)), original[version.code])
    assert {v.code: v.version for v in current}["T-A-1"] == 3
    assert grid3_at(client, auth, STRIP, None) == "T-A-1"
    assert grid3_at(client, auth, STRIP, now - timedelta(days=5)) == "T-B-1"


def test_a_future_effective_from_keeps_todays_boundaries(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    opened = report(client, auth, *STRIP)
    plan = moved_plan(db_session)
    start = datetime.now(UTC) + timedelta(days=1)

    answer = publish(client, auth, plan.id, start)

    assert answer.status_code == 201, answer.text
    summary = answer.json()["summary"]
    assert summary["open_deferred"] is True and summary["open_incidents"] == 0
    assert grid3_at(client, auth, STRIP, None) == "T-A-1"
    assert grid3_at(client, auth, STRIP, start + timedelta(hours=1)) == "T-B-1"
    db_session.expire_all()
    assert db_session.get(Incident, opened["id"]).grid3_code == "T-A-1"  # type: ignore[union-attr]


def test_a_deleted_special_grid_leaves_the_incidents_after_effective_from(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    inside = (120.407, 30.907)
    ids = [add_incident(db_session, *inside, reported_at=now - timedelta(days=days))
           for days in (20, 5)]
    for incident_id in ids:
        db_session.get(Incident, incident_id).special_codes = ["S-SCHOOL"]  # type: ignore[union-attr]
    plan = create_plan(db_session, owner="planner", name="撤销学校网格")
    db_session.execute(text("DELETE FROM plan_grid WHERE plan_id = :p AND code = 'S-SCHOOL'"),
                       {"p": plan.id})
    db_session.commit()

    answer = publish(client, auth, plan.id, now - timedelta(days=10))

    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["deleted"] == 1
    db_session.expire_all()
    older, newer = (db_session.get(Incident, i) for i in ids)
    assert older is not None and older.special_codes == ["S-SCHOOL"]
    assert newer is not None and newer.special_codes == [] and newer.grid3_code == "T-A-1"
    closed = db_session.scalars(select(GridVersion).where(GridVersion.code == "S-SCHOOL")).one()
    assert closed.valid_to == now - timedelta(days=10)


def test_locate_follows_a_scheduled_plan_when_its_moment_comes(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    plan = moved_plan(db_session)
    start = datetime.now(UTC) + timedelta(seconds=2)
    assert publish(client, auth, plan.id, start).status_code == 201
    assert grid3_at(client, auth, STRIP, None) == "T-A-1"  # the snapshot built now
    time.sleep(max((start - datetime.now(UTC)).total_seconds(), 0) + 0.2)
    # no new change is recorded when the moment comes: the locator knows when it expires
    assert grid3_at(client, auth, STRIP, None) == "T-B-1"


def row_versions(session: Session, ids: list[int]) -> dict[int, str]:
    """Where each incident's current row version lies: an UPDATE moves it, even a no-op."""
    return {row.id: str(row.ctid) for row in session.execute(
        text("SELECT id, ctid FROM incident WHERE id = ANY(:ids)"), {"ids": ids})}


def test_only_incidents_whose_codes_change_are_rewritten(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    stale = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=5))
    # already recorded with the codes the new boundaries give it
    current = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=5),
                           grid3="T-B-1")
    outside = add_incident(db_session, *WEST, reported_at=now - timedelta(days=5))
    db_session.commit()
    before = row_versions(db_session, [stale, current, outside])
    plan = moved_plan(db_session)

    answer = publish(client, auth, plan.id, now - timedelta(days=10))

    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["incidents_reattributed"] == 1
    db_session.expire_all()
    after = row_versions(db_session, [stale, current, outside])
    assert after[stale] != before[stale]
    assert after[current] == before[current] and after[outside] == before[outside]
    codes = {i.id: (i.town_code, i.grid2_code, i.grid3_code) for i in db_session.scalars(
        select(Incident).where(Incident.id.in_([stale, current, outside])))}
    assert codes == {stale: ("T", "T-B", "T-B-1"), current: ("T", "T-B", "T-B-1"),
                     outside: ("T", "T-A", "T-A-1")}


def test_a_failed_publish_changes_nothing_and_can_be_retried(
        db_session: Session, town: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    age_town(db_session)
    now = datetime.now(UTC)
    reported = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=5))
    opened = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=50),
                          status="dispatched")
    plan = moved_plan(db_session)
    jit = db_session.scalar(text("SELECT current_setting('jit')"))

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the settling of open incidents failed")

    monkeypatch.setattr(publish_module, "settle_open", fail)
    with pytest.raises(RuntimeError), db_session.begin_nested():
        publish_module.publish_plan(db_session, plan_id=plan.id, actor="admin",
                                    effective_from=now - timedelta(days=10), policy="keep",
                                    expected_version=1, now=now)

    db_session.expire_all()
    for incident_id in (reported, opened):
        incident = db_session.get(Incident, incident_id)
        assert incident is not None and incident.grid3_code == "T-A-1"
    assert [v.version for v in db_session.scalars(
        select(GridVersion).where(GridVersion.code == "T-A-1"))] == [1]
    assert db_session.get(Plan, plan.id).status == "draft"  # type: ignore[union-attr]
    assert db_session.scalar(text("SELECT to_regclass('pg_temp.reattributed')")) is None
    assert db_session.scalar(text("SELECT current_setting('jit')")) == jit

    monkeypatch.undo()
    made = publish_module.publish_plan(db_session, plan_id=plan.id, actor="admin",
                                       effective_from=now - timedelta(days=10), policy="keep",
                                       expected_version=1, now=now)
    assert (made.summary["incidents_reattributed"], made.summary["open_kept"]) == (2, 1)
    db_session.expire_all()
    assert db_session.get(Incident, reported).grid3_code == "T-B-1"  # type: ignore[union-attr]
    assert db_session.scalar(text("SELECT to_regclass('pg_temp.reattributed')")) is None
