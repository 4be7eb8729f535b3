"""The plan editor at `/plans/{id}/edit`: a thin page route (HTML from a pure builder)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.auth.permissions import PLAN_READERS
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.plans import service
from gis_service.plans.metrics import parse_band
from map_ui.data import basemap
from map_ui.plan_editor import (
    EditorData,
    editor_page,
    forbidden_page,
    list_page,
    not_found_page,
)
from map_ui.router import OptionalPrincipalDep

router = APIRouter(include_in_schema=False)


def _band(request: Request) -> tuple[int, int]:
    try:
        return parse_band(context_of(request).settings.plan_band_households)
    except InvalidInputError:
        return (300, 500)


@router.get("/plans/{plan_id}/edit", response_class=HTMLResponse)
def plan_editor(plan_id: int, request: Request, session: SessionDep,
                principal: OptionalPrincipalDep) -> Response:
    """The editor for planners and admins; commanders look; others are turned away."""
    here = f"/plans/{plan_id}/edit"
    if principal is None:
        return RedirectResponse(f"/login?next={here}", status_code=303)
    if principal.role not in PLAN_READERS:
        return HTMLResponse(forbidden_page(principal.username, principal.role, here), 403)
    try:
        plan = service.readable(session, principal=principal, plan_id=plan_id)
    except NotFoundError:
        return HTMLResponse(not_found_page(plan_id), status_code=404)
    settings = context_of(request).settings
    return HTMLResponse(editor_page(EditorData(
        plan_id=plan.id, name=plan.name, status=plan.status, version=plan.version,
        username=principal.username, role=principal.role, band=_band(request),
        basemap=basemap(settings))))


@router.get("/plans", response_class=HTMLResponse)
def plan_list(session: SessionDep, principal: OptionalPrincipalDep) -> Response:
    """Every plan with a link to its editor, and a button for a new draft."""
    if principal is None:
        return RedirectResponse("/login?next=/plans", status_code=303)
    if principal.role not in PLAN_READERS:
        return HTMLResponse(forbidden_page(principal.username, principal.role, "/plans"), 403)
    plans = [p.model_dump(mode="json") for p in service.list_plans(session, principal=principal)]
    return HTMLResponse(list_page(plans, username=principal.username, role=principal.role))
