"""Report routes: any period, the weekly review and the monthly analysis; JSON by default,
`?format=csv` for the flat CSV. Thin: the service builds, these only choose the format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import InvalidInputError
from gis_service.hotspots.service import thresholds_from
from gis_service.jsonresponse import JSONBytesResponse
from gis_service.reports.csv import report_csv
from gis_service.reports.periods import parse_month
from gis_service.reports.service import build_report, monthly_report, weekly_report
from gis_service.timeutil import CHINA_TIME, aware

router = APIRouter(prefix="/api/v1")
MAX_DAYS = 400
Area = Annotated[str | None, Query(description="a grid (level 1–3) or district code")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def _answer(report: dict[str, Any], fmt: str) -> Response:
    if fmt == "csv":
        name = f"report-{report['period']['start'][:10]}.csv"
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONBytesResponse(report)


@router.get("/reports", tags=["reports"])
def report(session: SessionDep, principal: PrincipalDep, start: datetime, end: datetime,
           area: Area = None, format: Format = "json") -> Response:
    """The report of [start, end) (times without a zone are China time)."""
    begin, finish = aware(start), aware(end)
    assert begin is not None and finish is not None
    if not begin < finish <= begin + timedelta(days=MAX_DAYS):
        raise InvalidInputError(f"`start` must be before `end`, at most {MAX_DAYS} days")
    return _answer(build_report(session, principal=principal, area=area, start=begin,
                                end=finish), format)


@router.get("/reports/weekly", tags=["reports"])
def weekly(request: Request, session: SessionDep, principal: PrincipalDep,
           date: Annotated[date | None, Query(
               description="a day of the week; by default the last full week")] = None,
           area: Area = None, format: Format = "json") -> Response:
    """The weekly review of the Monday–Sunday week (China time) of `date`."""
    limits = thresholds_from(context_of(request).settings)
    return _answer(weekly_report(session, principal=principal, area=area, day=date,
                                 thresholds=limits), format)


@router.get("/reports/monthly", tags=["reports"])
def monthly(session: SessionDep, principal: PrincipalDep,
            month: Annotated[str | None, Query(description="YYYY-MM; this month")] = None,
            area: Area = None, format: Format = "json") -> Response:
    """The monthly analysis of a calendar month (China time)."""
    first = (parse_month(month) if month
             else datetime.now(UTC).astimezone(CHINA_TIME).date().replace(day=1))
    return _answer(monthly_report(session, principal=principal, area=area, month=first), format)
