"""Page routes: the one-map wall at `/` and the sign-in form. Thin: data from the services,
HTML from pure builders."""

from __future__ import annotations

import gzip
import html
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

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
NO_SUCH_TOWN = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>没有这个镇 · 网格化指挥平台</title></head><body>
<p id="no-town">没有编号为 {town} 的镇，或它不在您能查看的范围内。</p>
<p><a href="/">返回一张图</a></p></body></html>"""


async def optional_principal(request: Request) -> Principal | None:
    """The signed-in principal, or None (pages send the browser to the sign-in form)."""
    try:
        return await current_principal(request)
    except NotAuthenticatedError:
        return None


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


@router.get("/", response_class=HTMLResponse)
def wall(request: Request, session: SessionDep, principal: OptionalPrincipalDep,
         town: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """The one-map wall of the town (a town center's own; the county's with its towns, or a
    town of it by `?town=CODE`); the incidents are shown to signed-in users only."""
    if principal is None:
        next_url = f"/?town={quote(town)}" if town else "/"
        return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
    data = gather_wall(session, principal=principal, now=datetime.now(UTC),
                       settings=context_of(request).settings, town=town)
    if data is None:
        return HTMLResponse(NO_SUCH_TOWN.format(town=html.escape(town or "")), status_code=404)
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
