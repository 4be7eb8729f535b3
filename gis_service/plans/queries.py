"""Plan queries: plans with their grid counts, a plan's grids as GeoJSON, its edit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from gis_service.geojson import geometry_json
from gis_service.grids.models import GridVersion
from gis_service.plans.models import Plan, PlanEdit, PlanGrid

_MAX_ID = 2**31 - 1


def plan(session: Session, plan_id: int, *, lock: bool = False) -> Plan | None:
    """One plan; `lock` takes its row lock so that concurrent edits queue up."""
    if not 0 < plan_id <= _MAX_ID:
        return None  # the id column is 32-bit: a larger number names no plan (not a 500)
    stmt = select(Plan).where(Plan.id == plan_id)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def plans(session: Session) -> list[Plan]:
    """Every plan, newest first."""
    return list(session.scalars(select(Plan).order_by(Plan.id.desc())))


def grid_counts(session: Session, plan_ids: list[int]) -> dict[int, int]:
    """How many grids each plan holds."""
    stmt = (select(PlanGrid.plan_id, func.count()).where(PlanGrid.plan_id.in_(plan_ids))
            .group_by(PlanGrid.plan_id))
    return {plan_id: count for plan_id, count in session.execute(stmt)}


def _changed() -> Any:
    """SQL: the plan grid is new, or differs from the version it was copied from."""
    fields = ("name", "level", "kind", "parent_code", "households", "population", "attributes")
    differs = [getattr(PlanGrid, f).is_distinct_from(getattr(GridVersion, f)) for f in fields]
    geometry = func.ST_AsEWKB(PlanGrid.geom) != func.ST_AsEWKB(GridVersion.geom)
    return or_(GridVersion.id.is_(None), geometry, *differs)


def grid_features(plan_id: int) -> Select[PlanGrid, str, bool]:
    """A plan's grids with their GeoJSON geometry and whether each changed, in code order."""
    return (select(PlanGrid, geometry_json(PlanGrid.geom), _changed())
            .outerjoin(GridVersion, and_(GridVersion.id == PlanGrid.source_version_id))
            .where(PlanGrid.plan_id == plan_id).order_by(PlanGrid.code))


def grid_rows(session: Session, plan_id: int) -> list[Row[PlanGrid, str, bool]]:
    """Rows of grid_features."""
    return list(session.execute(grid_features(plan_id)).all())


def edits(session: Session, plan_id: int) -> list[PlanEdit]:
    """A plan's edit log, oldest first."""
    return list(session.scalars(select(PlanEdit).where(PlanEdit.plan_id == plan_id)
                                .order_by(PlanEdit.seq)))


def last_edit(session: Session, plan_id: int) -> PlanEdit | None:
    """The newest edit not yet undone."""
    return session.scalar(select(PlanEdit)
                          .where(PlanEdit.plan_id == plan_id, PlanEdit.undone.is_(False))
                          .order_by(PlanEdit.seq.desc()).limit(1))


def next_seq(session: Session, plan_id: int) -> int:
    """The sequence number the plan's next edit gets."""
    last = session.scalar(select(func.max(PlanEdit.seq)).where(PlanEdit.plan_id == plan_id))
    return (last or 0) + 1
