"""GET /api/v1/workers."""

from __future__ import annotations

from fastapi import APIRouter

from gis_service.auth.deps import PrincipalDep
from gis_service.database import SessionDep
from gis_service.people import service
from gis_service.people.schemas import WorkerRead

router = APIRouter(prefix="/api/v1", tags=["people"])


@router.get("/workers")
def list_workers(session: SessionDep, _: PrincipalDep, role: str | None = None,
                 grid: str | None = None) -> list[WorkerRead]:
    """Workers with their home grid or district and AB backup, optionally filtered."""
    return [WorkerRead.model_validate(w)
            for w in service.list_workers(session, role=role, grid=grid)]
