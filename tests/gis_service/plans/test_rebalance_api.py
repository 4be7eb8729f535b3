"""POST /plans/{id}/rebalance: a new draft splits the crowded grid; the source stays as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from gis_service.addresses.models import AddressPoint
from gis_service.config import Settings
from gis_service.main import create_app
from gis_service.plans.drafts import as_record, create_plan, plan_grids, shape_of
from gis_service.plans.models import PlanGrid
from gis_service.plans.rebalance_router import router as rebalance_router
from grid_layers.validation import validate_hierarchy

Headers = Callable[[str, str | None], dict[str, str]]
# level-3 boxes of the test town (tests/town.py)
BOXES = {"T-A-1": (120.40, 30.90, 120.41, 30.91), "T-A-2": (120.40, 30.91, 120.41, 30.92),
         "T-B-1": (120.41, 30.90, 120.42, 30.91), "T-B-2": (120.41, 30.91, 120.42, 30.92)}


@pytest.fixture()
def client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The service with the rebalance route (mounted here until main.py includes it)."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0)
    app = create_app(settings, session_factory=session_factory)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/plans/{plan_id}/rebalance" not in paths:
        app.include_router(rebalance_router)
    with TestClient(app) as test_client:
        yield test_client


def crowd(session: Session, counts: dict[str, int]) -> None:
    """Dwellings (address points without a POI) in each box: T-A-1 crowded in two clusters."""
    rng = np.random.default_rng(8)
    for code, n in counts.items():
        x0, y0, x1, y1 = BOXES[code]
        if code == "T-A-1":
            centres = np.array([[x0 + 0.003, y0 + 0.003], [x0 + 0.007, y0 + 0.006]])
            xy = centres[np.arange(n) % 2] + rng.normal(0, 0.0012, (n, 2))
            xy = np.clip(xy, [x0 + 1e-5, y0 + 1e-5], [x1 - 1e-5, y1 - 1e-5])
        else:
            xy = rng.uniform([x0 + 1e-5, y0 + 1e-5], [x1 - 1e-5, y1 - 1e-5], (n, 2))
        session.add_all(AddressPoint(address=f"{code}-{k}", village=None, road=None,
                                     number=f"{k}号", poi=None, attributes={},
                                     geom=from_shape(shapely.Point(x, y), srid=4490))
                        for k, (x, y) in enumerate(xy.tolist()))
    session.flush()


@pytest.fixture()
def plan_id(db_session: Session, town: dict[str, Path]) -> int:
    """A draft of the test town whose level-3 grids hold no household count, so that the
    dwellings decide: T-A-1 has 400, the others 100 each."""
    crowd(db_session, {"T-A-1": 400, "T-A-2": 100, "T-B-1": 100, "T-B-2": 100})
    plan = create_plan(db_session, owner="planner", name="2027 调整")
    db_session.execute(update(PlanGrid).where(PlanGrid.plan_id == plan.id, PlanGrid.level == 3)
                       .values(households=None))
    db_session.commit()
    return plan.id


def stored(session: Session, plan: int) -> dict[str, tuple[bytes, int | None]]:
    return {g.code: (shapely.to_wkb(shape_of(g)), g.households)
            for g in plan_grids(session, plan)}


def test_a_rebalance_splits_the_crowded_grid_in_a_new_draft(
        client: TestClient, db_session: Session, plan_id: int, token_for: Headers) -> None:
    source_before = stored(db_session, plan_id)
    response = client.post(f"/api/v1/plans/{plan_id}/rebalance",
                           json={"band": [80, 160], "seed": 1},
                           headers=token_for("planner", None))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] != plan_id and body["status"] == "draft"
    assert body["name"] == "2027 调整（均衡建议）" and "in band" in body["note"]
    assert body["rebalance"]["parents"] == ["T-A"]
    assert body["rebalance"]["before"]["in_band"] == 3
    assert body["rebalance"]["after"]["in_band"] == body["rebalance"]["after"]["grids"]

    db_session.expire_all()
    assert stored(db_session, plan_id) == source_before
    grids = plan_grids(db_session, body["id"])
    under_a = {g.code: g for g in grids if g.parent_code == "T-A"}
    assert len(under_a) >= 4 and "T-A-3" in under_a  # 500 households into grids of <= 160
    assert all(80 <= (g.households or 0) <= 160 for g in under_a.values())
    assert sum(g.households or 0 for g in under_a.values()) == 500
    untouched = {c: v for c, v in stored(db_session, body["id"]).items() if c[:3] != "T-A"}
    assert untouched == {c: v for c, v in source_before.items() if c[:3] != "T-A"}
    assert validate_hierarchy([as_record(g) for g in grids]) == []


def test_household_counts_of_the_grids_weight_the_dwellings(
        client: TestClient, db_session: Session, plan_id: int, auth: dict[str, str]) -> None:
    db_session.execute(update(PlanGrid).where(PlanGrid.plan_id == plan_id,
                                              PlanGrid.code == "T-A-1").values(households=900))
    db_session.commit()
    response = client.post(f"/api/v1/plans/{plan_id}/rebalance",
                           json={"band": [200, 400], "parents": ["T-A"]}, headers=auth)
    assert response.status_code == 201, response.text
    assert "scaled" in response.json()["note"]
    grids = [g for g in plan_grids(db_session, response.json()["id"]) if g.parent_code == "T-A"]
    assert sum(g.households or 0 for g in grids) == 1000  # 900 + T-A-2's 100 dwellings
    assert all(200 <= (g.households or 0) <= 400 for g in grids)


def test_only_planners_and_admins_may_ask(
        client: TestClient, plan_id: int, token_for: Headers) -> None:
    response = client.post(f"/api/v1/plans/{plan_id}/rebalance", json={},
                           headers=token_for("commander", None))
    assert response.status_code == 403


def test_unknown_plans_and_parents_are_refused(
        client: TestClient, plan_id: int, auth: dict[str, str]) -> None:
    assert client.post("/api/v1/plans/999999/rebalance", json={},
                       headers=auth).status_code == 404
    response = client.post(f"/api/v1/plans/{plan_id}/rebalance",
                           json={"parents": ["T-A-1"]}, headers=auth)
    assert response.status_code == 422
    response = client.post(f"/api/v1/plans/{plan_id}/rebalance",
                           json={"band": [300, 100]}, headers=auth)
    assert response.status_code == 422
