"""GET /api/v1/workers."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from gis_service.auth.deps import PrincipalDep
from gis_service.database import SessionDep
from gis_service.people.models import Worker
from gis_service.people.schemas import WorkerRead

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/workers")
def list_workers(session: SessionDep, _: PrincipalDep, role: str | None = None,
                 grid: str | None = None) -> list[WorkerRead]:
    """Workers with their home grid or district and AB backup, optionally filtered."""
    stmt = select(Worker).order_by(Worker.code)
    if role:
        stmt = stmt.where(Worker.role == role)
    if grid:
        stmt = stmt.where(Worker.grid_code == grid)
    return [WorkerRead.model_validate(w) for w in session.scalars(stmt)]
