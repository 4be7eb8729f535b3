"""Page routes: the one-map wall at `/` and the sign-in form. Thin: data from the services,
HTML from pure builders."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.auth.deps import current_principal
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import NotAuthenticatedError
from map_ui.data import gather_wall
from map_ui.pages import login_page
from map_ui.wall import render_wall

router = APIRouter(include_in_schema=False)


async def optional_principal(request: Request) -> Principal | None:
    """The signed-in principal, or None (pages send the browser to the sign-in form)."""
    try:
        return await current_principal(request)
    except NotAuthenticatedError:
        return None


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


@router.get("/", response_class=HTMLResponse)
def wall(request: Request, session: SessionDep, principal: OptionalPrincipalDep) -> Response:
    """The one-map wall of the town; the town's incidents are shown to signed-in users only."""
    if principal is None:
        return RedirectResponse("/login?next=/", status_code=303)
    data = gather_wall(session, principal=principal, now=datetime.now(UTC),
                       settings=context_of(request).settings)
    return _compressed(request, render_wall(data))


def _compressed(request: Request, html: str) -> Response:
    """The page gzipped when the browser takes it: a year of incidents makes megabytes of
    inline GeoJSON that compress about tenfold (the API's big JSON answers stay plain, as
    compressing them would cost more time than the loopback saves)."""
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return HTMLResponse(html)
    return Response(gzip.compress(html.encode(), compresslevel=5), media_type="text/html",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


@router.get("/login", response_class=HTMLResponse)
def login_form(next_url: Annotated[str | None, Query(alias="next")] = None) -> HTMLResponse:
    """The sign-in form (POST /login checks it and sets the session cookie)."""
    return HTMLResponse(login_page(next_url))
