"""The dispatcher console at `/dispatch`: a thin page route (HTML from a pure builder)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.auth.permissions import CENTER
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.open311.service import list_services
from map_ui.data import basemap
from map_ui.dispatch_page import ConsoleData, console_page, forbidden_page
from map_ui.router import OptionalPrincipalDep

router = APIRouter(include_in_schema=False)


@router.get("/dispatch", response_class=HTMLResponse)
def dispatch_console(request: Request, session: SessionDep,
                     principal: OptionalPrincipalDep) -> Response:
    """The console for the command center; others are told they may not use it."""
    if principal is None:
        return RedirectResponse("/login?next=/dispatch", status_code=303)
    if principal.role not in CENTER:
        return HTMLResponse(forbidden_page(principal.username, principal.role), status_code=403)
    categories = {s["service_code"]: s["service_name"] for s in list_services(session)}
    return HTMLResponse(console_page(ConsoleData(
        username=principal.username, role=principal.role, categories=categories,
        basemap=basemap(context_of(request).settings))))
