"""Early warning and responsibility health: `GET /api/v1/hotspots` (every signed-in user,
counting only what they may see) and `GET /api/v1/responsibility-health` (the command center
and planners: it ranks departments and grids against each other)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from gis_service.auth.deps import ViewerDep, role_in
from gis_service.auth.permissions import OVERSEERS
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import ReadSessionDep
from gis_service.errors import InvalidInputError
from gis_service.hotspots.health import responsibility_health
from gis_service.hotspots.service import scan_hotspots, thresholds_from
from gis_service.jsonresponse import JSONBytesResponse

router = APIRouter(prefix="/api/v1", tags=["hotspots"], default_response_class=JSONBytesResponse)
DEFAULT_HEALTH_DAYS = 30
# both read from the read role (ReadSessionDep, GIS_READ_DATABASE_URL): weeks and months of
# counts, long reads that may lag a little, kept off the primary


@router.get("/hotspots")
def hotspots(request: Request, session: ReadSessionDep, principal: ViewerDep,
             week_end: Annotated[AwareDatetime | None, Query(
                 description="the end of the week scanned; now")] = None,
             area: Annotated[str | None, Query(
                 description="a grid, special grid or district code")] = None,
             cells: Annotated[bool, Query(
                 description="include every counted cell (the wall needs only warnings)")] = True,
             ) -> dict[str, Any]:
    """The week's warnings: hotspots, new clusters, repeat addresses, rising categories."""
    answer = scan_hotspots(session, principal=principal, area=area,
                           week_end=week_end or datetime.now(UTC),
                           thresholds=thresholds_from(context_of(request).settings))
    if not cells:
        del answer["cells"]
    return answer


@router.get("/responsibility-health")
def health(request: Request, session: ReadSessionDep,
           principal: Annotated[Principal, Depends(role_in(
               OVERSEERS, "a {role} may not see the responsibility health"))],
           start: Annotated[AwareDatetime | None, Query(description="30 days before end")] = None,
           end: Annotated[AwareDatetime | None, Query(description="now")] = None,
           ) -> dict[str, Any]:
    """Often returned categories, late-answering departments, grids far from the others."""
    until = end or datetime.now(UTC)
    since = start or until - timedelta(days=DEFAULT_HEALTH_DAYS)
    if since >= until:
        raise InvalidInputError("start must be before end")
    return responsibility_health(session, principal=principal, start=since, end=until,
                                 settings=context_of(request).settings)
