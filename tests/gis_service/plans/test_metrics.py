"""Plan metrics against numbers computed independently (pyproj on the ellipsoid, test points)."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.errors import InvalidInputError
from gis_service.plans.drafts import create_plan, shape_of
from gis_service.plans.metrics import deviation, parse_band, plan_metrics
from gis_service.plans.models import PlanGrid
from tests.gis_service.plans.test_impact import (
    STRIP,
    WEST,
    add_address,
    add_incident,
    move_strip,
)

GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def test_band_deviation_is_signed_distance_to_the_band() -> None:
    assert deviation(250, (300, 500)) == -50
    assert deviation(300, (300, 500)) == 0 and deviation(500, (300, 500)) == 0
    assert deviation(620, (300, 500)) == 120
    assert parse_band(" 300, 500") == (300, 500)
    for bad in ("500,300", "300", "a,b", "-1,4"):
        with pytest.raises(InvalidInputError):
            parse_band(bad)


def test_metrics_match_independent_numbers(db_session: Session, town: dict[str, Path]) -> None:
    now = datetime.now(UTC)
    for _ in range(3):
        add_address(db_session, *WEST)
    add_address(db_session, *WEST, poi="七都光缆一厂")  # an enterprise, not a dwelling
    add_address(db_session, *WEST, poi="湖滨公园")
    add_address(db_session, *STRIP)
    add_incident(db_session, *WEST, reported_at=now - timedelta(days=30))
    add_incident(db_session, *WEST, reported_at=now - timedelta(days=200))
    add_incident(db_session, *WEST, reported_at=now - timedelta(days=400))  # outside the year
    plan = create_plan(db_session, owner="planner", name="均衡")
    move_strip(db_session, plan)
    grid = db_session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id,
                                                     PlanGrid.code == "T-A-1")).one()
    grid.households, grid.population = None, None  # estimated from its address points
    db_session.commit()

    found = plan_metrics(db_session, plan_id=plan.id, band=(100, 110), now=now)

    by_code = {g["code"]: g for g in found["grids"]}
    a1 = by_code["T-A-1"]
    assert (a1["address_points"], a1["enterprises"], a1["incidents_12m"]) == (5, 1, 2)
    assert a1["households"] == 3 and a1["households_source"] == "address_points"
    assert a1["population"] == round(3 * 2.8) and a1["population_source"] == "estimate"
    assert a1["deviation"] == 3 - 100 and a1["in_band"] is False
    b1 = by_code["T-B-1"]
    assert b1["address_points"] == 1 and b1["households"] == 120
    assert b1["households_source"] == "grid" and b1["deviation"] == 10
    assert by_code["T-A"]["deviation"] is None  # the band is for level-3 grids
    assert by_code["T"]["address_points"] == 6 and by_code["T"]["incidents_12m"] == 2
    for item in found["grids"]:
        shape = shape_of(db_session.scalars(select(PlanGrid).where(
            PlanGrid.plan_id == plan.id, PlanGrid.code == item["code"])).one())
        area, perimeter = GEOD.geometry_area_perimeter(shape)
        assert item["area_m2"] == pytest.approx(abs(area), rel=1e-6, abs=0.1)
        expected = 4 * math.pi * abs(area) / perimeter**2
        assert item["polsby_popper"] == pytest.approx(expected, abs=1e-4)
    square = by_code["T-A-2"]["polsby_popper"]
    assert square == pytest.approx(math.pi / 4, abs=0.01)  # a near-square
    assert a1["polsby_popper"] < square  # the narrowed grid is less compact
    households = [g["households"] for g in found["grids"] if g["level"] == 3]
    assert found["plan"]["spread"] == {
        "min": min(households), "max": max(households),
        "mean": round(statistics.fmean(households), 1),
        "stdev": round(statistics.pstdev(households), 1)}
    assert found["plan"]["outside_band"] == ["T-A-1", "T-A-2", "T-B-1", "T-B-2"]
    assert shapely.equals(shape_of(grid), shapely.box(120.40, 30.90, 120.408, 30.91))


def test_metrics_over_http_with_the_default_band(
        client: TestClient, db_session: Session, town: dict[str, Path],
        token_for: object) -> None:
    plan = create_plan(db_session, owner="planner", name="均衡")
    db_session.commit()
    headers = token_for("commander")  # type: ignore[operator]
    answer = client.get(f"/api/v1/plans/{plan.id}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["band"] == [300, 500] and len(body["grids"]) == 8
    assert body["plan"]["outside_band"] == ["T-A-1", "T-A-2", "T-B-1", "T-B-2"]
    narrow = client.get(f"/api/v1/plans/{plan.id}/metrics", params={"band": "100,120"},
                        headers=headers).json()
    assert narrow["plan"]["outside_band"] == [] and narrow["plan"]["spread"]["stdev"] == 0
    assert client.get(f"/api/v1/plans/{plan.id}/metrics", params={"band": "9,1"},
                      headers=headers).status_code == 422
    assert client.get("/api/v1/plans/999999/metrics", headers=headers).status_code == 404
