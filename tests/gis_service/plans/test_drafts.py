"""A draft copies the grids valid at a moment, with where each came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.grids.models import GridVersion
from gis_service.plans.drafts import as_record, create_plan, plan_grids, shape_of
from grid_layers.validation import validate_hierarchy


def test_a_draft_copies_the_current_grids(db_session: Session, town: dict[str, Path]) -> None:
    plan = create_plan(db_session, owner="planner", name="2027 调整")
    grids = plan_grids(db_session, plan.id)
    stored = {v.code: v for v in db_session.scalars(select(GridVersion))}
    assert [g.code for g in grids] == sorted(stored)
    for grid in grids:
        version = stored[grid.code]
        assert grid.source_version_id == version.id and grid.level == version.level
        assert shapely.equals(shape_of(grid), shapely.from_wkb(bytes(version.geom.data)))
    assert validate_hierarchy([as_record(g) for g in grids]) == []
    assert plan.status == "draft" and plan.version == 1


def test_a_draft_of_a_moment_before_the_town_existed_is_empty(
        db_session: Session, town: dict[str, Path]) -> None:
    past = datetime.now(UTC) - timedelta(days=3650)
    plan = create_plan(db_session, owner="planner", name="回到过去", at=past)
    assert plan_grids(db_session, plan.id) == [] and plan.based_on_at == past
