"""/api/v1/assessment and /api/v1/spot-checks: grid workers' monthly scores, spot checks, and
the two-party assessment of county staff stationed in a town."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gis_service.assessment import service, stationed
from gis_service.assessment.schemas import (
    AssessmentRead,
    SpotCheckCreate,
    SpotCheckRead,
    StationedRatingWrite,
    StationedRead,
    StationedScore,
    WorkerScore,
)
from gis_service.assessment.scheme import Scheme, load_scheme
from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import SessionDep

router = APIRouter(prefix="/api/v1", tags=["assessment"])
MonthQuery = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, China time")]


def scheme_of(request: Request) -> Scheme:
    """The scheme the settings name (GIS_ASSESSMENT_SCHEME), else the packaged one."""
    return load_scheme(context_of(request).settings.assessment_scheme)


def _league(request: Request, session: SessionDep, principal: PrincipalDep,
            month: str) -> list[WorkerScore]:
    return service.assess_month(session, month=month, principal=principal,
                                scheme=scheme_of(request),
                                buffer_m=context_of(request).settings.patrol_buffer_m,
                                now=datetime.now(UTC))


@router.get("/assessment")
def league_table(request: Request, session: SessionDep, principal: PrincipalDep,
                 month: MonthQuery) -> AssessmentRead:
    """Every grid worker's score of the month, best first, each item explained; a grid
    worker sees their own row only (with their rank among all)."""
    return AssessmentRead(month=month, scheme=scheme_of(request).name,
                          buffer_m=context_of(request).settings.patrol_buffer_m,
                          workers=_league(request, session, principal, month))


@router.get("/assessment.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def league_csv(request: Request, session: SessionDep, principal: PrincipalDep,
               month: MonthQuery) -> Response:
    """The league table as CSV (UTF-8 with BOM, for spreadsheets)."""
    body = service.league_csv(_league(request, session, principal, month))
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="assessment-{month}.csv"'})


@router.get("/assessment/stationed")
def stationed_staff(request: Request, session: SessionDep, principal: PrincipalDep,
                    month: MonthQuery) -> StationedRead:
    """County department staff stationed in a town: their department's tickets in that town,
    the town's and the department's ratings of the month, and the total at the town's share
    of the weight (`GIS_ASSESSMENT_TOWN_SHARE`, at least half). A town center sees its town's,
    the county center its towns'."""
    return stationed.assess(session, principal=principal, month=month,
                            town_share=context_of(request).settings.assessment_town_share)


@router.put("/assessment/stationed/{worker_code}")
def rate_stationed(request: Request, worker_code: str, body: StationedRatingWrite,
                   session: SessionDep, principal: PrincipalDep,
                   month: MonthQuery) -> StationedScore:
    """Rate a stationed staff member's month 0–100 as a party: `town` by the center of the
    town they serve in, `county` by the county center for their department (an admin either);
    rating again replaces the party's rating. Answers the member's row as now totalled."""
    stationed.rate_month(session, principal=principal, worker_code=worker_code, month=month,
                         body=body, now=datetime.now(UTC))
    read = stationed.assess(session, principal=principal, month=month,
                            town_share=context_of(request).settings.assessment_town_share)
    return next(row for row in read.staff if row.worker_code == worker_code)


@router.get("/assessment/{worker_code}")
def worker_score(request: Request, worker_code: str, session: SessionDep,
                 principal: PrincipalDep, month: MonthQuery) -> WorkerScore:
    """One grid worker's score with every item's value, target, weight, points and facts."""
    return service.assess_worker(session, month=month, principal=principal, code=worker_code,
                                 scheme=scheme_of(request),
                                 buffer_m=context_of(request).settings.patrol_buffer_m,
                                 now=datetime.now(UTC))


@router.post("/spot-checks", status_code=201)
def record_spot_check(body: SpotCheckCreate, session: SessionDep,
                      principal: PrincipalDep) -> SpotCheckRead:
    """Record an on-site spot check of a grid worker (admin, commander, dispatcher)."""
    check = service.add_spot_check(session, principal=principal, body=body,
                                   now=datetime.now(UTC))
    return SpotCheckRead.model_validate(check)


@router.get("/spot-checks")
def list_spot_checks(session: SessionDep, principal: PrincipalDep, month: MonthQuery,
                     worker: str | None = None) -> list[SpotCheckRead]:
    """The month's spot checks, of one worker when `worker` is given."""
    return [SpotCheckRead.model_validate(c) for c in service.list_spot_checks(
        session, principal=principal, month=month, worker=worker)]
