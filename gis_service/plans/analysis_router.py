"""Plan metrics, impact, publishing and files: planners and admins do everything, commanders
read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel

from gis_service.auth.deps import role_in
from gis_service.auth.permissions import PLAN_EDITORS, PLAN_READERS
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.etag import IfMatch, parse_etag
from gis_service.plans import exchange, impact, metrics, publish, sweep
from gis_service.plans.models import PlanPublication
from gis_service.plans.schemas import RepairRead
from grid_layers.repair import DEFAULT_TOLERANCE_M, MAX_TOLERANCE_M

router = APIRouter(prefix="/api/v1", tags=["plans"])
# beyond the locators' refresh, for a report located just before it to be committed
SWEEP_MARGIN_SECONDS = 1.0


Reader = Annotated[Principal, Depends(role_in(PLAN_READERS, "当前角色无权查看边界方案"))]
Planner = Annotated[Principal, Depends(role_in(PLAN_EDITORS, "当前角色无权修改边界方案"))]
BandQuery = Annotated[str | None, Query(description='households "low,high"; default setting')]


class PublishRequest(BaseModel):
    """When the plan takes effect, and what happens to open incidents whose grid changes."""

    effective_from: AwareDatetime
    policy: Literal["keep", "reroute"] = "keep"


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _band(request: Request, band: str | None) -> tuple[int, int]:
    return metrics.parse_band(band or context_of(request).settings.plan_band_households)


@router.get("/plans/{plan_id}/metrics")
def plan_metrics(plan_id: int, request: Request, session: SessionDep, _: Reader,
                 band: BandQuery = None) -> Response:
    """Per grid: households, population, address points, enterprises, a year's incidents,
    area, compactness and distance from the band; the plan's spread."""
    return _json(metrics.plan_metrics(
        session, plan_id=plan_id, band=_band(request, band), now=datetime.now(UTC),
        persons_per_household=context_of(request).settings.plan_persons_per_household))


@router.get("/plans/{plan_id}/impact")
def plan_impact(plan_id: int, session: SessionDep, _: Reader) -> Response:
    """What the plan would move against the boundaries valid now."""
    return _json(impact.plan_impact(session, plan_id=plan_id, at=datetime.now(UTC)))


@router.get("/plans/{plan_id}/impact/{kind}.csv", response_class=Response)
def plan_impact_list(plan_id: int, kind: str, session: SessionDep, _: Reader) -> Response:
    """One list of what moves: address_points, open_incidents, incidents, workers,
    memberships."""
    body = impact.impact_csv(session, plan_id=plan_id, kind=kind, at=datetime.now(UTC))
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="plan-{plan_id}-{kind}.csv"'})


@router.post("/plans/{plan_id}/publish", status_code=201,
             responses={409: {"description": "not a draft, or effective_from too early"},
                        412: {"description": "stale If-Match"},
                        422: {"description": "the plan does not validate"},
                        428: {"description": "If-Match missing"}})
def publish_plan(plan_id: int, body: PublishRequest, request: Request, session: SessionDep,
                 principal: Planner, background: BackgroundTasks,
                 if_match: IfMatch = None) -> Response:
    """Make the draft live from `effective_from` as new grid versions."""
    started = datetime.now(UTC)
    context = context_of(request)

    def then(made: PlanPublication) -> None:
        context.locator.invalidate()  # this process answers from the new boundaries now
        # reports other requests located meanwhile against the old boundaries: see sweep.py
        delay = context.settings.locator_refresh_seconds + SWEEP_MARGIN_SECONDS
        background.add_task(sweep.sweep_later, context.session_factory,
                            publication_id=made.id, started_at=started, delay_seconds=delay)

    made = publish.publish_plan(
        session, plan_id=plan_id, actor=principal.username, effective_from=body.effective_from,
        policy=body.policy, expected_version=parse_etag(if_match), now=started, then=then)
    return _json({"id": made.id, "plan_id": made.plan_id,
                  "effective_from": made.effective_from.isoformat(),
                  "published_at": made.published_at.isoformat(),
                  "published_by": made.published_by, "policy": made.policy,
                  "summary": made.summary}, status=201)


@router.get("/plans/{plan_id}/export.{fmt}", response_class=Response)
def export_plan(plan_id: int, fmt: str, request: Request, session: SessionDep, _: Reader,
                band: BandQuery = None) -> Response:
    """The plan as GeoJSON or GeoPackage, with scores and provenance."""
    made = exchange.export_plan(session, plan_id=plan_id, fmt=fmt, band=_band(request, band),
                                now=datetime.now(UTC))
    return Response(made.content, media_type=made.media_type, headers={
        "Content-Disposition": f'attachment; filename="{made.filename}"'})


@router.post("/plans/import", status_code=201)
def import_plan(session: SessionDep, principal: Planner, file: Annotated[UploadFile, File()],
                name: Annotated[str | None, Form()] = None,
                note: Annotated[str | None, Form()] = None,
                repair: Annotated[bool, Form(description="repair within tolerance_m first")]
                = False,
                tolerance_m: Annotated[float, Form(gt=0.0, le=MAX_TOLERANCE_M)]
                = DEFAULT_TOLERANCE_M) -> Response:
    """A new draft holding exactly the grids of a .geojson or .gpkg file (with `repair`:
    repaired within `tolerance_m` first, the repairs listed in the answer)."""
    plan, repairs = exchange.import_plan(
        session, filename=file.filename or "plan.geojson", content=file.file.read(),
        owner=principal.username, name=name, note=note, now=datetime.now(UTC),
        repair_m=tolerance_m if repair else None)
    return Response(orjson.dumps({"id": plan.id, "name": plan.name, "status": plan.status,
                                  "version": plan.version, "source": plan.source,
                                  "repairs": [RepairRead.of(r).model_dump() for r in repairs]}),
                    status_code=201, media_type="application/json",
                    headers={"ETag": f'"{plan.version}"', "Location": f"/api/v1/plans/{plan.id}"})
