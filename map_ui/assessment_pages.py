"""The assessment pages at `/assessment`, `/assessment/stationed` and
`/assessment/{worker_code}`: thin routes (scores from the assessment service, HTML from the
pure builders)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.assessment import service, stationed
from gis_service.assessment.scheme import load_scheme
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import ForbiddenError, NotFoundError
from gis_service.timeutil import CHINA_TIME
from map_ui.assessment_page import LeagueView, WorkerView, league_page, message_page, worker_page
from map_ui.nav import nav_html
from map_ui.router import OptionalPrincipalDep
from map_ui.stationed_page import StationedView, stationed_page

router = APIRouter(include_in_schema=False)
MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
NO_STORE = {"Cache-Control": "no-store"}


def _month(month: str | None) -> str:
    return month or datetime.now(CHINA_TIME).strftime("%Y-%m")


def _sign_in(path: str, month: str | None) -> RedirectResponse:
    target = path + (f"?{urlencode({'month': month})}" if month else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


@router.get("/assessment", response_class=HTMLResponse)
def league(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
           month: MonthParam = None, sort: str = "rank", order: str = "asc") -> Response:
    """The month's league table (a grid worker sees their own row)."""
    if principal is None:
        return _sign_in("/assessment", month)
    settings = context_of(request).settings
    scheme = load_scheme(settings.assessment_scheme)
    try:
        rows = service.assess_month(session, month=_month(month), principal=principal,
                                    scheme=scheme, buffer_m=settings.patrol_buffer_m,
                                    now=datetime.now(UTC))
    except ForbiddenError as exc:
        return HTMLResponse(message_page("无权查看考核", exc.detail), status_code=403)
    return HTMLResponse(league_page(LeagueView(
        username=principal.username, month=_month(month), scheme=scheme.name, rows=rows,
        sort=sort, descending=order == "desc", nav=nav_html(principal.role, "assessment"))),
        headers=NO_STORE)


@router.get("/assessment/stationed", response_class=HTMLResponse)
def stationed_staff(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
                    month: MonthParam = None) -> Response:
    """County staff stationed in towns: facts, both parties' ratings, totals; a center rates
    as its party here."""
    if principal is None:
        return _sign_in("/assessment/stationed", month)
    try:
        read = stationed.assess(session, principal=principal, month=_month(month),
                                town_share=context_of(request).settings.assessment_town_share)
    except ForbiddenError as exc:
        return HTMLResponse(message_page("无权查看考核", exc.detail), status_code=403)
    return HTMLResponse(stationed_page(StationedView(
        username=principal.username, nav=nav_html(principal.role, "assessment"), read=read)),
        headers=NO_STORE)


@router.get("/assessment/{worker_code}", response_class=HTMLResponse)
def worker(request: Request, worker_code: str, session: SessionDep,
           principal: OptionalPrincipalDep, month: MonthParam = None) -> Response:
    """One worker's score explained, with the map of their month; a grid worker may open
    only their own."""
    if principal is None:
        return _sign_in(f"/assessment/{worker_code}", month)
    settings = context_of(request).settings
    scheme = load_scheme(settings.assessment_scheme)
    now = datetime.now(UTC)
    try:
        score = service.assess_worker(session, month=_month(month), principal=principal,
                                      code=worker_code, scheme=scheme,
                                      buffer_m=settings.patrol_buffer_m, now=now)
    except ForbiddenError as exc:
        return HTMLResponse(message_page("无权查看考核", exc.detail), status_code=403)
    except NotFoundError:
        return HTMLResponse(message_page("未找到", f"没有可查看的网格员 {worker_code}"),
                            status_code=404)
    walks = service.worker_map(session, month=_month(month), code=worker_code, now=now)
    return HTMLResponse(worker_page(WorkerView(
        username=principal.username, month=_month(month), scheme=scheme.name, score=score,
        map=walks, buffer_m=settings.patrol_buffer_m,
        nav=nav_html(principal.role, "assessment"))), headers=NO_STORE)
