"""Reading the town's people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

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
