"""The grid worker's phone page at `/worker`: a thin page route (HTML from a pure builder)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.patrols.service import walker
from map_ui.data import basemap
from map_ui.router import OptionalPrincipalDep
from map_ui.worker_page import WorkerView, worker_page

router = APIRouter(include_in_schema=False)


@router.get("/worker", response_class=HTMLResponse)
def worker(request: Request, session: SessionDep, principal: OptionalPrincipalDep) -> Response:
    """The field account's phone page; the browser signs in first."""
    if principal is None:
        return RedirectResponse("/login?next=/worker", status_code=303)
    me = walker(session, principal=principal)
    view = WorkerView(username=principal.username, role=principal.role,
                      scope_code=principal.scope_code, worker_code=me["worker_code"],
                      worker_name=me["worker_name"], grid_code=me["grid_code"],
                      basemap=basemap(context_of(request).settings))
    return HTMLResponse(worker_page(view), headers={"Cache-Control": "no-store"})
