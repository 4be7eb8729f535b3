"""Report routes: any period, the weekly review and the monthly analysis; JSON by default,
`?format=csv` for the flat CSV. Thin: the service builds, these only choose the format."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep, role_in
from gis_service.auth.permissions import OVERSEERS
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import ReadSessionDep
from gis_service.errors import InvalidInputError
from gis_service.hotspots.service import thresholds_from
from gis_service.jsonresponse import JSONBytesResponse
from gis_service.reports.csv import report_csv
from gis_service.reports.league import League, league
from gis_service.reports.periods import parse_month
from gis_service.reports.service import build_report, monthly_report, weekly_report
from gis_service.timeutil import CHINA_TIME, aware

router = APIRouter(prefix="/api/v1")
LEAGUE_COLUMNS = ("month", "code", "name", "intake", "open", "overdue", "on_time_rate",
                  "ratio_721", "satisfaction", "escalated", "returned")
MAX_DAYS = 400
Area = Annotated[str | None, Query(description="a grid (level 1–3) or district code")]
Overseer = Annotated[Principal, Depends(role_in(OVERSEERS, "当前角色无权查看各镇排名"))]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
# every report reads from the read role (ReadSessionDep, GIS_READ_DATABASE_URL): periods and
# months counted after the fact, long reads that may lag a little, kept off the primary


def _answer(report: dict[str, Any], fmt: str) -> Response:
    if fmt == "csv":
        name = f"report-{report['period']['start'][:10]}.csv"
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JSONBytesResponse(report)


@router.get("/reports", tags=["reports"])
def report(session: ReadSessionDep, principal: PrincipalDep, start: datetime, end: datetime,
           area: Area = None, format: Format = "json") -> Response:
    """The report of [start, end) (times without a zone are China time)."""
    begin, finish = aware(start), aware(end)
    assert begin is not None and finish is not None
    if not begin < finish <= begin + timedelta(days=MAX_DAYS):
        raise InvalidInputError(f"`start` must be before `end`, at most {MAX_DAYS} days")
    return _answer(build_report(session, principal=principal, area=area, start=begin,
                                end=finish), format)


@router.get("/reports/weekly", tags=["reports"])
def weekly(request: Request, session: ReadSessionDep, principal: PrincipalDep,
           date: Annotated[date | None, Query(
               description="a day of the week; by default the last full week")] = None,
           area: Area = None, format: Format = "json") -> Response:
    """The weekly review of the Monday–Sunday week (China time) of `date`."""
    limits = thresholds_from(context_of(request).settings)
    return _answer(weekly_report(session, principal=principal, area=area, day=date,
                                 thresholds=limits), format)


@router.get("/reports/monthly", tags=["reports"])
def monthly(session: ReadSessionDep, principal: PrincipalDep,
            month: Annotated[str | None, Query(description="YYYY-MM; this month")] = None,
            area: Area = None, format: Format = "json") -> Response:
    """The monthly analysis of a calendar month (China time)."""
    return _answer(monthly_report(session, principal=principal, area=area,
                                  month=_month(month)), format)


@router.get("/reports/league", tags=["reports"])
def town_league(session: ReadSessionDep, principal: Overseer,
                month: Annotated[str | None, Query(description="YYYY-MM; this month")] = None,
                format: Format = "json") -> Response:
    """The towns side by side for a calendar month (China time): intake, open and overdue at
    the month's end, on-time closures, the 721 ratio (of 10), satisfaction (mean 1–5),
    escalations and the tickets each town returned to the county. A county center sees its
    towns, a town center its own."""
    table = league(session, principal, _month(month))
    if format == "csv":
        return Response(_league_csv(table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 f'attachment; filename="league-{table.month}.csv"'})
    return JSONBytesResponse(table.as_json())


def _month(month: str | None) -> date:
    return (parse_month(month) if month
            else datetime.now(UTC).astimezone(CHINA_TIME).date().replace(day=1))


def _league_csv(table: League) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEAGUE_COLUMNS)
    for row in table.towns:
        ratio = ":".join(str(r) for r in row.ratio_721) if row.ratio_721 else ""
        writer.writerow([table.month, row.code, row.name, row.intake, row.open, row.overdue,
                         "" if row.on_time_rate is None else row.on_time_rate, ratio,
                         "" if row.satisfaction is None else row.satisfaction,
                         row.escalated, row.returned])
    return out.getvalue()
