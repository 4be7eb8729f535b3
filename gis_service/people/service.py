"""Reading the town's people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from gis_service.grids.models import GridVersion
from gis_service.people.models import Worker


def list_workers(session: Session, *, role: str | None = None,
                 grid: str | None = None) -> list[Worker]:
    """Workers in code order, optionally of one role or home grid."""
    stmt = select(Worker).order_by(Worker.code)
    if role:
        stmt = stmt.where(Worker.role == role)
    if grid:
        stmt = stmt.where(Worker.grid_code == grid)
    return list(session.scalars(stmt))


def grid_worker_names(session: Session) -> dict[str, str]:
    """Grid code → the names of the grid workers whose home grid it is (、-separated)."""
    names: dict[str, list[str]] = {}
    for worker in list_workers(session, role="grid_worker"):
        if worker.grid_code:
            names.setdefault(worker.grid_code, []).append(worker.name)
    return {code: "、".join(people) for code, people in names.items()}


def workers_in(session: Session, area: str, at: datetime) -> set[str]:
    """The grid workers whose home grid lies in `area` (a town, or the county above it): the
    grid, its village, its town or their county names it."""
    grid, village, town = (aliased(GridVersion) for _ in range(3))
    valid = {alias: and_(alias.valid_from <= at, or_(alias.valid_to.is_(None), alias.valid_to > at))
             for alias in (grid, village, town)}
    stmt = (select(Worker.code).join(grid, and_(grid.code == Worker.grid_code, valid[grid]))
            .outerjoin(village, and_(village.code == grid.parent_code, valid[village]))
            .outerjoin(town, and_(town.code == village.parent_code, valid[town]))
            .where(Worker.role == "grid_worker",
                   or_(grid.parent_code == area, village.parent_code == area,
                       town.parent_code == area)))
    return set(session.scalars(stmt))
