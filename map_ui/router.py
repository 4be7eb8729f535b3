"""Page routes. The one-map wall itself comes with the demo town; until then `/` is a plain
start page that loads nothing from outside the service."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from map_ui.pages import start_page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    """The start page."""
    return HTMLResponse(start_page())
