"""A plan's impact lists exactly the points, incidents, workers and memberships that move."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_service.addresses.models import AddressPoint
from gis_service.incidents.models import Incident
from gis_service.plans.drafts import as_stored, create_plan
from gis_service.plans.impact import impact_csv, plan_impact
from gis_service.plans.models import Plan, PlanGrid

X0, X1, X2 = 120.40, 120.41, 120.42
Y0, Y1, Y2 = 30.90, 30.91, 30.92
CUT = 120.408  # T-A-1's and T-A's east strip [CUT, X1] x [Y0, Y1] moves east
STRIP = (120.409, 30.902)  # in the strip, outside the school
STRIP_SCHOOL = (120.409, 30.907)  # in the strip and in S-SCHOOL (which does not change)
WEST = (120.402, 30.902)  # stays in T-A-1
EAST = (120.415, 30.902)  # stays in T-B-1


def polygon(*points: tuple[float, float]) -> shapely.Polygon:
    """A polygon through the corners."""
    return shapely.Polygon(points)


def move_strip(session: Session, plan: Plan) -> None:
    """Move the strip from T-A-1 / T-A to T-B-1 / T-B in the plan (a valid hierarchy)."""
    shapes = {
        "T-A-1": shapely.box(X0, Y0, CUT, Y1),
        "T-B-1": polygon((CUT, Y0), (X1, Y0), (X2, Y0), (X2, Y1), (X1, Y1), (CUT, Y1)),
        "T-A": polygon((X0, Y0), (CUT, Y0), (CUT, Y1), (X1, Y1), (X1, Y2), (X0, Y2),
                       (X0, Y1)),
        "T-B": polygon((CUT, Y0), (X1, Y0), (X2, Y0), (X2, Y1), (X2, Y2), (X1, Y2), (X1, Y1),
                       (CUT, Y1)),
    }
    set_shapes(session, plan, shapes)


def set_shapes(session: Session, plan: Plan, shapes: dict[str, shapely.Geometry]) -> None:
    """Give plan grids new shapes, as an edit would."""
    for code, shape in shapes.items():
        grid = session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id,
                                                      PlanGrid.code == code)).one()
        grid.geom = as_stored(shape)
        grid.edited_by, grid.edited_at = "planner", datetime.now(UTC)
    session.flush()


def add_address(session: Session, lon: float, lat: float, poi: str | None = None) -> int:
    """An address point; its id."""
    point = AddressPoint(address=f"测试路{lon:.4f},{lat:.4f}号", poi=poi, attributes={},
                         geom=from_shape(shapely.Point(lon, lat), srid=4490))
    session.add(point)
    session.flush()
    return point.id


def add_incident(session: Session, lon: float, lat: float, *, reported_at: datetime,
                 status: str = "closed", grid3: str | None = None) -> int:
    """A bare incident row (no history), placed where the test says it was recorded."""
    incident = Incident(
        source="hotline_12345", category_code="GARBAGE", description="", lon=lon, lat=lat,
        geom=from_shape(shapely.Point(lon, lat), srid=4490), reported_at=reported_at,
        status=status, priority=0, town_code="T", grid2_code=(grid3 or "T-A-1")[:3],
        grid3_code=grid3 or "T-A-1", zone_codes=[], special_codes=[], cooperating=[],
        escalation_level=0, history_head="", history_length=0, version=1,
        created_at=reported_at, updated_at=reported_at)
    session.add(incident)
    session.flush()
    return incident.id


def test_the_impact_lists_exactly_what_moves(db_session: Session, town: dict[str, Path]) -> None:
    moving = [add_address(db_session, *STRIP), add_address(db_session, *STRIP_SCHOOL)]
    staying = [add_address(db_session, *WEST), add_address(db_session, *EAST)]
    now = datetime.now(UTC)
    moved_incident = add_incident(db_session, *STRIP, reported_at=now - timedelta(days=400))
    open_incident = add_incident(db_session, *STRIP, reported_at=now, status="dispatched")
    add_incident(db_session, *WEST, reported_at=now)
    plan = create_plan(db_session, owner="planner", name="东移")
    move_strip(db_session, plan)
    db_session.commit()

    found = plan_impact(db_session, plan_id=plan.id, at=datetime.now(UTC))

    assert [(g["code"], g["change"], g["what"]) for g in found["changed_grids"]] == [
        ("T-A", "changed", ["shape"]), ("T-A-1", "changed", ["shape"]),
        ("T-B", "changed", ["shape"]), ("T-B-1", "changed", ["shape"])]
    assert abs(found["changed_area_m2"] - 0.002 * 0.01 * 111_320 * 0.858 * 110_574) < 2_000
    per_grid = found["per_grid"]
    assert per_grid["T-A-1"]["address_points_out"] == 2
    assert per_grid["T-B-1"]["address_points_in"] == 2
    assert per_grid["T-A"]["address_points_out"] == 2 and per_grid["T-B"]["address_points_in"] == 2
    assert per_grid["T-A-1"]["incidents_out"] == 2 and per_grid["T-A-1"]["open_incidents_out"] == 1
    assert "S-SCHOOL" not in per_grid  # the school keeps its points
    # W1 lives in T-A-1, W3 in T-B-1: their grids change shape
    assert per_grid["T-A-1"]["workers_affected"] == 1 and per_grid["T-B-1"]["workers_affected"] == 1
    assert found["totals"]["address_points"] == 2 and found["totals"]["incidents"] == 2
    assert found["incident_window"] == "all time"
    rows = _moves(db_session, plan.id, "address_points")
    assert {int(r["id"]) for r in rows} == set(moving) and not set(staying) & {
        int(r["id"]) for r in rows}
    assert {(r["layer"], r["old_grid"], r["new_grid"]) for r in rows} == {
        ("grid3", "T-A-1", "T-B-1"), ("grid2", "T-A", "T-B")}
    incident_rows = _moves(db_session, plan.id, "incidents")
    assert {int(r["id"]) for r in incident_rows} == {moved_incident, open_incident}
    assert {int(r["id"]) for r in _moves(db_session, plan.id, "open_incidents")} == {
        open_incident}


def _moves(session: Session, plan_id: int, kind: str) -> list[dict[str, str]]:
    body = impact_csv(session, plan_id=plan_id, kind=kind, at=datetime.now(UTC))
    return list(csv.DictReader(io.StringIO(body)))


def test_deleted_grids_new_codes_and_memberships(db_session: Session,
                                                 town: dict[str, Path]) -> None:
    plan = create_plan(db_session, owner="planner", name="拆分")
    # T-B-2 gives up its east half to a new grid; S-SCHOOL is dropped
    set_shapes(db_session, plan, {"T-B-2": shapely.box(X1, Y1, 120.415, Y2)})
    db_session.execute(text("DELETE FROM plan_grid WHERE plan_id = :p AND code = 'S-SCHOOL'"),
                       {"p": plan.id})
    old = db_session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id,
                                                    PlanGrid.code == "T-B-2")).one()
    db_session.add(PlanGrid(
        plan_id=plan.id, code="T-B-3", name="东村三组", level=3, kind="comprehensive",
        parent_code="T-B", households=None, population=None, multipart=False, attributes={},
        geom=as_stored(shapely.box(120.415, Y1, X2, Y2)), source_version_id=None,
        edited_at=old.edited_at, edited_by="planner"))
    point = add_address(db_session, 120.418, 30.915)
    db_session.commit()

    found = plan_impact(db_session, plan_id=plan.id, at=datetime.now(UTC))

    assert [(g["code"], g["change"]) for g in found["changed_grids"]] == [
        ("S-SCHOOL", "deleted"), ("T-B-2", "changed"), ("T-B-3", "new")]
    assert found["per_grid"]["T-B-3"]["address_points_in"] == 1
    assert found["per_grid"]["T-B-2"]["address_points_out"] == 1
    assert found["per_grid"]["T-B-2"]["workers_affected"] == 1  # W4
    rows = _moves(db_session, plan.id, "memberships")
    assert {(r["grid_code"], r["kind"], r["member_code"], r["change"]) for r in rows} == {
        ("T-A-1", "special", "S-SCHOOL", "left"), ("T-A-2", "special", "S-SCHOOL", "left"),
        ("T-B-1", "special", "S-SCHOOL", "left"), ("T-B-2", "special", "S-SCHOOL", "left"),
        ("T-B-3", "district", "D2", "joined")}
    assert [int(r["id"]) for r in _moves(db_session, plan.id, "address_points")] == [point]


def test_impact_over_http(client: TestClient, db_session: Session, town: dict[str, Path],
                          token_for: object) -> None:
    plan = create_plan(db_session, owner="planner", name="东移")
    move_strip(db_session, plan)
    add_address(db_session, *STRIP)
    db_session.commit()
    headers = token_for("commander")  # type: ignore[operator]
    answer = client.get(f"/api/v1/plans/{plan.id}/impact", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["address_points"] == 1
    listing = client.get(f"/api/v1/plans/{plan.id}/impact/address_points.csv", headers=headers)
    assert listing.status_code == 200 and listing.headers["content-type"].startswith("text/csv")
    assert listing.text.lstrip("\ufeff").splitlines()[0] == "id,layer,old_grid,new_grid"
    assert client.get(f"/api/v1/plans/{plan.id}/impact/nothing.csv",
                      headers=headers).status_code == 404
    assert client.get(f"/api/v1/plans/{plan.id}/impact",
                      headers=token_for("grid_worker", "T-A-1")).status_code == 403  # type: ignore[operator]
