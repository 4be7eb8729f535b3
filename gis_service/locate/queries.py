"""Loading every boundary layer valid at a moment, as WKB, for the in-process locator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import functions as gfn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.grids.models import GridVersion, LayerChange
from gis_service.grids.queries import valid_at
from gis_service.people.models import Worker
from gis_service.places.models import District, Zone


def latest_change_id(session: Session) -> int:
    """Id of the newest boundary or people change (0 when none)."""
    return session.scalar(select(func.coalesce(func.max(LayerChange.id), 0))) or 0


def next_boundary_change(session: Session, after: datetime) -> datetime | None:
    """The first moment after `after` when a grid version starts or ends (a plan published
    for a later date), or None."""
    starts = select(func.min(GridVersion.valid_from)).where(GridVersion.valid_from > after)
    ends = select(func.min(GridVersion.valid_to)).where(GridVersion.valid_to > after)
    moments = [m for m in (session.scalar(starts), session.scalar(ends)) if m is not None]
    return min(moments, default=None)


def grid_rows(session: Session, at: datetime) -> list[tuple[Any, ...]]:
    """code, name, level, kind, wkb of every grid valid at `at`."""
    stmt = select(GridVersion.code, GridVersion.name, GridVersion.level, GridVersion.kind,
                  gfn.ST_AsBinary(GridVersion.geom)).where(valid_at(at))
    return [tuple(row) for row in session.execute(stmt)]


def district_rows(session: Session) -> list[tuple[Any, ...]]:
    """code, name, squad_code, wkb of every district."""
    stmt = select(District.code, District.name, District.squad_code,
                  gfn.ST_AsBinary(District.geom))
    return [tuple(row) for row in session.execute(stmt)]


def zone_rows(session: Session) -> list[tuple[Any, ...]]:
    """code, name, level, wkb of every zone."""
    stmt = select(Zone.code, Zone.name, Zone.level, gfn.ST_AsBinary(Zone.geom))
    return [tuple(row) for row in session.execute(stmt)]


def grid_workers(session: Session) -> list[Worker]:
    """Grid workers with a home grid, in code order."""
    stmt = (select(Worker).where(Worker.role == "grid_worker", Worker.grid_code.is_not(None))
            .order_by(Worker.code))
    return list(session.scalars(stmt))
