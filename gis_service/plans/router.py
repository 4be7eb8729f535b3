"""/api/v1/plans: drafts of the boundaries, their grids, edits, operations, undo, validation.

Planners and admins use every route; a commander may only read (GET); other roles get 403.
A plan's `version` is its ETag; every change sends `If-Match: "<version>"` (428 without, 412
when stale) and answers with the new ETag; a plan that is not a draft refuses changes (409).

    POST   /plans {name, note?, at?}            -> 201 plan {id, name, note, owner, status,
                                                   based_on_at, version, grid_count, created_at,
                                                   updated_at}
    GET    /plans                               -> [plan]
    GET    /plans/{id}                          -> plan
    PATCH  /plans/{id} {name?, note?}           -> plan
    DELETE /plans/{id}                          -> plan, status "discarded"
    GET    /plans/{id}/grids                    -> FeatureCollection (properties: code, name,
                                                   level, kind, parent_code, households,
                                                   population, multipart, source_version_id,
                                                   changed, edited_at, edited_by)
    PUT    /plans/{id}/grids/{code} Feature     -> the stored Feature, snapped to its neighbours
    DELETE /plans/{id}/grids/{code}             -> plan
    POST   /plans/{id}/operations {op: split|merge|move|reassign, ...} -> plan
    POST   /plans/{id}/undo                     -> plan (409 when nothing is left to undo)
    GET    /plans/{id}/edits                    -> [{seq, at, actor, operation, detail, undone}]
    GET    /plans/{id}/validation               -> {valid, problems: [{type, grids, area_m2,
                                                   geometry, location, message}], repairable}
    POST   /plans/{id}/repair {tolerance_m?}    -> {plan, tolerance_m, repairs: [{kind, grids,
                                                   area_m2, shift_m, pieces, location,
                                                   message}]} (one edit, undoable)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Response
from sqlalchemy.orm import Session

from gis_service.auth.deps import PrincipalDep
from gis_service.database import SessionDep
from gis_service.etag import IfMatch
from gis_service.geojson import GEOJSON_RESPONSES, collection_response, feature_response
from gis_service.plans import operations, service
from gis_service.plans import repair as plan_repair
from gis_service.plans.models import Plan
from gis_service.plans.schemas import (
    EditRead,
    GridFeature,
    Operation,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    RepairRead,
    RepairRequest,
    RepairResult,
    ValidationRead,
)

router = APIRouter(prefix="/api/v1", tags=["plans"])
EDIT_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "the plan is not a draft, or nothing to undo"},
    412: {"description": "stale If-Match"}, 428: {"description": "If-Match missing"}}


def _respond(session: Session, plan: Plan, status: int = 200) -> Response:
    body = service.to_read(session, plan).model_dump_json()
    return Response(body, status_code=status, media_type="application/json",
                    headers={"ETag": f'"{plan.version}"'})


@router.post("/plans", status_code=201, response_model=PlanRead)
def create_plan(body: PlanCreate, session: SessionDep, principal: PrincipalDep) -> Response:
    """A new draft: a copy of the boundaries valid now, or at `at` (how a roll-back starts)."""
    plan = service.create(session, principal=principal, body=body, now=datetime.now(UTC))
    return _respond(session, plan, 201)


@router.get("/plans")
def list_plans(session: SessionDep, principal: PrincipalDep) -> list[PlanRead]:
    """Every plan, newest first."""
    return service.list_plans(session, principal=principal)


@router.get("/plans/{plan_id}", response_model=PlanRead)
def get_plan(plan_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """One plan, with its version as the ETag."""
    return _respond(session, service.readable(session, principal=principal, plan_id=plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanRead, responses=EDIT_RESPONSES)
def update_plan(plan_id: int, body: PlanUpdate, session: SessionDep, principal: PrincipalDep,
                if_match: IfMatch = None) -> Response:
    """Rename a draft or change its note."""
    plan = service.update(session, principal=principal, plan_id=plan_id, if_match=if_match,
                          body=body, now=datetime.now(UTC))
    return _respond(session, plan)


@router.delete("/plans/{plan_id}", response_model=PlanRead, responses=EDIT_RESPONSES)
def discard_plan(plan_id: int, session: SessionDep, principal: PrincipalDep,
                 if_match: IfMatch = None) -> Response:
    """Discard a draft: its status becomes `discarded` and it takes no more edits."""
    plan = service.discard(session, principal=principal, plan_id=plan_id, if_match=if_match,
                           now=datetime.now(UTC))
    return _respond(session, plan)


@router.get("/plans/{plan_id}/grids", responses=GEOJSON_RESPONSES)
def plan_grids(plan_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """The plan's grids as GeoJSON (lon/lat), with `changed` against their source versions."""
    return collection_response(service.features(session, principal=principal, plan_id=plan_id))


@router.put("/plans/{plan_id}/grids/{code}", responses={**GEOJSON_RESPONSES, **EDIT_RESPONSES})
def put_grid(plan_id: int, code: str, feature: GridFeature, session: SessionDep,
             principal: PrincipalDep, if_match: IfMatch = None) -> Response:
    """Create or replace a grid from a GeoJSON Feature; answers the stored (snapped) Feature."""
    plan = service.put_grid(session, principal=principal, plan_id=plan_id, code=code,
                            feature=feature, if_match=if_match, now=datetime.now(UTC))
    stored = service.features(session, principal=principal, plan_id=plan_id, code=code)
    response = feature_response(stored[0])
    response.headers["ETag"] = f'"{plan.version}"'
    return response


@router.delete("/plans/{plan_id}/grids/{code}", response_model=PlanRead,
               responses=EDIT_RESPONSES)
def delete_grid(plan_id: int, code: str, session: SessionDep, principal: PrincipalDep,
                if_match: IfMatch = None) -> Response:
    """Remove a grid from the draft."""
    plan = service.delete_grid(session, principal=principal, plan_id=plan_id, code=code,
                               if_match=if_match, now=datetime.now(UTC))
    return _respond(session, plan)


@router.post("/plans/{plan_id}/operations", response_model=PlanRead, responses=EDIT_RESPONSES)
def run_operation(plan_id: int, op: Annotated[Operation, Body()], session: SessionDep,
                  principal: PrincipalDep, if_match: IfMatch = None) -> Response:
    """Split, merge, move a piece, or reassign level-3 grids (see operations.py)."""
    plan = operations.apply(session, principal=principal, plan_id=plan_id, op=op,
                            if_match=if_match, now=datetime.now(UTC))
    return _respond(session, plan)


@router.post("/plans/{plan_id}/undo", response_model=PlanRead, responses=EDIT_RESPONSES)
def undo(plan_id: int, session: SessionDep, principal: PrincipalDep,
         if_match: IfMatch = None) -> Response:
    """Undo the newest edit not yet undone."""
    plan = service.undo_last(session, principal=principal, plan_id=plan_id, if_match=if_match,
                             now=datetime.now(UTC))
    return _respond(session, plan)


@router.get("/plans/{plan_id}/edits")
def edits(plan_id: int, session: SessionDep, principal: PrincipalDep) -> list[EditRead]:
    """The edit log, oldest first."""
    return [EditRead.model_validate(e, from_attributes=True)
            for e in service.edit_log(session, principal=principal, plan_id=plan_id)]


@router.post("/plans/{plan_id}/repair", response_model=RepairResult, responses=EDIT_RESPONSES)
def repair(plan_id: int, session: SessionDep, principal: PrincipalDep,
           body: Annotated[RepairRequest | None, Body()] = None,
           if_match: IfMatch = None) -> Response:
    """Repair gaps, overlaps and slivers within the tolerance (default 0.5 m) as one edit;
    the repairs are listed, and undo puts the grids back."""
    tolerance = (body or RepairRequest()).tolerance_m
    plan, outcome = plan_repair.repair_plan(session, principal=principal, plan_id=plan_id,
                                            if_match=if_match, tolerance_m=tolerance,
                                            now=datetime.now(UTC))
    result = RepairResult(plan=service.to_read(session, plan), tolerance_m=tolerance,
                          repairs=[RepairRead.of(r) for r in outcome.repairs])
    return Response(result.model_dump_json(), media_type="application/json",
                    headers={"ETag": f'"{plan.version}"'})


@router.get("/plans/{plan_id}/validation")
def validation(plan_id: int, session: SessionDep, principal: PrincipalDep) -> ValidationRead:
    """The plan checked as one hierarchy: each problem with its grids, area and geometry."""
    return service.validation(session, principal=principal, plan_id=plan_id)
