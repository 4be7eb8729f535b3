"""POST /api/v1/plans/{id}/rebalance: a new draft suggesting grids inside the household band."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gis_service.auth.deps import role_in
from gis_service.auth.permissions import PLAN_EDITORS
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.plans.metrics import parse_band
from gis_service.plans.rebalance import suggest_rebalance

router = APIRouter(prefix="/api/v1", tags=["plans"])


Planner = Annotated[Principal, Depends(role_in(PLAN_EDITORS, "当前角色无权制作边界方案"))]


class RebalanceRequest(BaseModel):
    """Households band (default: the service setting), level-2 codes (default: every parent
    with a level-3 grid outside the band) and the seed of the random spanning trees."""

    band: tuple[Annotated[int, Field(ge=0)], Annotated[int, Field(ge=0)]] | None = None
    parents: list[str] | None = None
    seed: int = 0


class RebalanceRead(BaseModel):
    """The new draft and what the rebalance did."""

    id: int
    name: str
    note: str
    owner: str
    status: str
    version: int
    source_plan_id: int
    rebalance: dict[str, Any]


@router.post("/plans/{plan_id}/rebalance", status_code=201, response_model=RebalanceRead)
def rebalance_plan(plan_id: int, request: Request, session: SessionDep, principal: Planner,
                   body: RebalanceRequest | None = None) -> RebalanceRead:
    """Copy the plan into a new draft whose level-3 grids are rebalanced into the band."""
    body = body or RebalanceRequest()
    band = body.band or parse_band(context_of(request).settings.plan_band_households)
    plan, summary = suggest_rebalance(session, plan_id=plan_id, owner=principal.username,
                                      band=band, parents=body.parents, seed=body.seed,
                                      now=datetime.now(UTC), scope=principal.scope_code)
    return RebalanceRead(id=plan.id, name=plan.name, note=plan.note, owner=plan.owner,
                         status=plan.status, version=plan.version, source_plan_id=plan_id,
                         rebalance=summary)
