"""Making a draft: a copy of the grids valid at a moment, and the shapes in and out of a plan."""

from __future__ import annotations

from datetime import UTC, datetime

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.grids.queries import current_versions
from gis_service.plans.models import Plan, PlanGrid
from grid_layers.hierarchy import GridRecord


def create_plan(session: Session, *, owner: str, name: str, note: str = "",
                at: datetime | None = None, now: datetime | None = None) -> Plan:
    """A new draft holding a copy of every grid valid at `at` (now by default); the caller
    commits. A draft of a past moment is how a roll-back starts."""
    now = now or datetime.now(UTC)
    based_on = at or now
    plan = Plan(name=name, note=note, owner=owner, status="draft", based_on_at=based_on,
                version=1, created_at=now, updated_at=now)
    session.add(plan)
    session.flush()
    for grid in current_versions(session, based_on):
        session.add(PlanGrid(
            plan_id=plan.id, code=grid.code, name=grid.name, level=grid.level, kind=grid.kind,
            parent_code=grid.parent_code, households=grid.households,
            population=grid.population, multipart=bool(grid.attributes.get("multipart")),
            attributes=dict(grid.attributes), geom=grid.geom, source_version_id=grid.id,
            edited_at=now, edited_by=owner))
    session.flush()
    return plan


def plan_grids(session: Session, plan_id: int) -> list[PlanGrid]:
    """A plan's grids in code order."""
    return list(session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan_id)
                                .order_by(PlanGrid.code)))


def shape_of(grid: PlanGrid) -> BaseGeometry:
    """A plan grid's geometry as shapely (lon/lat, EPSG:4490)."""
    return shapely.from_wkb(bytes(grid.geom.data))


def as_stored(geometry: BaseGeometry) -> object:
    """A polygonal shapely geometry as the MultiPolygon a plan grid stores."""
    multi = geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])
    return from_shape(multi, srid=4490)


def as_record(grid: PlanGrid) -> GridRecord:
    """A plan grid as the geometry core's validation sees it."""
    return GridRecord(code=grid.code, name=grid.name, kind=grid.kind, level=grid.level,
                      parent_code=grid.parent_code, geometry=shape_of(grid),
                      multipart_allowed=grid.multipart)
