"""The wall's data: `GET /api/v1/wall/feed|kpi|heat|replay|grids/{code}` (signed-in users;
each answer counts only the incidents the caller may see).

Every route here reads from the read role (`ReadSessionDep`, GIS_READ_DATABASE_URL): the wall
is looked at, not acted from, and a few hundred milliseconds behind is fine; a caller's own
writes are waited for (`database.read_session`), and the feed never reads behind its last
poll (`feed.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from gis_service.auth.deps import PrincipalDep, ViewerDep
from gis_service.context import context_of
from gis_service.dashboard.cards import grid_card
from gis_service.dashboard.feed import live_feed
from gis_service.dashboard.heat import heat_cells
from gis_service.dashboard.kpi import day_start, wall_kpis
from gis_service.dashboard.replay import replay_day
from gis_service.database import ReadSessionDep, has_read_role, lsn_cookie, newest_lsn, read_session
from gis_service.jsonresponse import JSONBytesResponse

router = APIRouter(prefix="/api/v1/wall", tags=["wall"], default_response_class=JSONBytesResponse)
FEED_COOKIE = "gis_feed_lsn"  # the position the wall's last poll was read at


def _share(request: Request) -> float:
    return float(context_of(request).settings.deadline_yellow_share)


@router.get("/feed", response_model=dict[str, Any])
def feed(request: Request, principal: ViewerDep,
         after: Annotated[int | None, Query(ge=0, description="the last answer's cursor")] = None,
         seen_at: Annotated[datetime | None, Query(description="the last answer's `at`")] = None,
         lsn: Annotated[str | None, Query(
             max_length=40, description="the last answer's `lsn` (a wall page sends it as a "
                                        "cookie); anything else is ignored")] = None,
         ) -> Response:
    """Open incidents (no cursor), or the incidents changed since `after`, with a new cursor.
    With a read database the answer's `lsn` is the position it was read at: the next poll is
    read at that position or later."""
    context = context_of(request)
    with read_session(request, newest_lsn(lsn, request.cookies.get(FEED_COOKIE))) as session:
        answer = live_feed(session, principal=principal, after=after, seen_at=seen_at,
                           now=datetime.now(UTC), yellow_share=_share(request),
                           track=has_read_role(context))
    # the items are JSON PostgreSQL built: written out as they are, not checked again
    response = JSONBytesResponse(answer)
    if answer["lsn"]:
        response.headers.append("set-cookie", lsn_cookie(FEED_COOKIE, answer["lsn"],
                                                         path=request.url.path))
    return response


@router.get("/kpi")
def kpi(request: Request, session: ReadSessionDep, principal: ViewerDep) -> dict[str, Any]:
    """Today's intake by channel, open and overdue, this month's closures, busiest grids."""
    return wall_kpis(session, principal=principal, now=datetime.now(UTC),
                     yellow_share=_share(request))


@router.get("/heat")
def heat(session: ReadSessionDep, principal: ViewerDep,
         days: Annotated[int, Query(ge=1, le=366)] = 7) -> dict[str, Any]:
    """Reports of the last `days` days per H3 hexagon (resolution 8)."""
    return heat_cells(session, principal=principal, now=datetime.now(UTC), days=days)


@router.get("/replay")
def replay(session: ReadSessionDep, principal: ViewerDep,
           day: Annotated[date | None, Query(description="YYYY-MM-DD (China); today")] = None,
           ) -> dict[str, Any]:
    """The incidents reported on `day`, each with its status changes to the day's end."""
    return replay_day(session, principal=principal, day=day or day_start(datetime.now(UTC))
                      .date())


@router.get("/grids/{code}")
def grid(request: Request, code: str, session: ReadSessionDep,
         principal: PrincipalDep) -> dict[str, Any]:
    """A grid's card: its workers, open items and this month's figures."""
    return grid_card(session, principal=principal, code=code, now=datetime.now(UTC),
                     yellow_share=_share(request))
