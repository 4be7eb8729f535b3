"""The printable reports at `/reports/weekly`, `/reports/monthly` and `/reports/league`: thin
routes, data from the reports service, HTML from `report_page`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.auth.permissions import OVERSEERS
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.hotspots.service import thresholds_from
from gis_service.reports.league import league
from gis_service.reports.periods import parse_month
from gis_service.reports.service import monthly_report, report_map, weekly_report
from gis_service.timeutil import CHINA_TIME
from map_ui.nav import nav_html
from map_ui.report_page import league_page, report_page
from map_ui.router import OptionalPrincipalDep

router = APIRouter(include_in_schema=False)
Area = Annotated[str | None, Query()]


def _sign_in(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)


def _today() -> date:
    return datetime.now(UTC).astimezone(CHINA_TIME).date()


@router.get("/reports/weekly", response_class=HTMLResponse)
def weekly_page(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
                area: Area = None, day: Annotated[date | None, Query(alias="date")] = None
                ) -> Response:
    """The weekly review of the week of `date` (by default the last full week), as the caller
    may see it."""
    if principal is None:
        return _sign_in(request)
    report = weekly_report(session, principal=principal, area=area, day=day,
                           thresholds=thresholds_from(context_of(request).settings))
    return HTMLResponse(report_page(report, report_map(session, report=report),
                                    nav=nav_html(principal.role, "weekly")))


@router.get("/reports/monthly", response_class=HTMLResponse)
def monthly_page(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
                 area: Area = None, month: Annotated[str | None, Query()] = None) -> Response:
    """The monthly analysis of `month` (YYYY-MM; this month), as the caller may see it."""
    if principal is None:
        return _sign_in(request)
    first = parse_month(month) if month else _today().replace(day=1)
    report = monthly_report(session, principal=principal, area=area, month=first)
    return HTMLResponse(report_page(report, report_map(session, report=report),
                                    nav=nav_html(principal.role, "monthly")))


@router.get("/reports/league", response_class=HTMLResponse)
def league_report_page(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
                       month: Annotated[str | None, Query()] = None) -> Response:
    """The towns side by side for `month` (YYYY-MM; this month), printable: a county center's
    towns, a town center's own; the centers and the planners only."""
    if principal is None:
        return _sign_in(request)
    if principal.role not in OVERSEERS:
        return HTMLResponse("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
                            "<p id=\"forbidden\">各镇排名仅供指挥中心和规划人员查看。</p>"
                            '<p><a href="/">返回一张图</a></p></html>', status_code=403)
    first = parse_month(month) if month else _today().replace(day=1)
    now = datetime.now(UTC)
    return HTMLResponse(league_page(league(session, principal, first, now),
                                    nav=nav_html(principal.role, "league"),
                                    generated_at=now.astimezone(CHINA_TIME)
                                    .strftime("%Y-%m-%d %H:%M")))
