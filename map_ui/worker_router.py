"""The grid worker's phone page at `/worker`: a thin page route (HTML from a pure builder),
and what makes it an installable app that opens without signal: its manifest and its service
worker, whose scope is the page (`/worker`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.patrols.service import walker
from map_ui.assets import NODE_MODULES, OWN_STATIC, OWN_URL, VENDOR_URL
from map_ui.data import basemap
from map_ui.router import OptionalPrincipalDep
from map_ui.worker_page import (
    MANIFEST_URL,
    OFFLINE_ASSETS,
    SERVICE_WORKER_URL,
    WorkerView,
    manifest,
    service_worker_script,
    worker_page,
)

router = APIRouter(include_in_schema=False)
SERVICE_WORKER = OWN_STATIC / "worker_sw.js"


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


def asset_file(url: str) -> Path:
    """Where an asset the page loads lies on disk (map_ui/static or node_modules)."""
    for prefix, folder in ((f"{OWN_URL}/", OWN_STATIC), (f"{VENDOR_URL}/", NODE_MODULES)):
        if url.startswith(prefix):
            return folder / url.removeprefix(prefix)
    raise ValueError(f"{url} is not one of the service's own assets")


def assets_version() -> str:
    """A digest of the service worker's code and of every asset it keeps: it changes with
    any of them, and so does the worker's script, which makes browsers install it again."""
    digest = hashlib.sha256(SERVICE_WORKER.read_bytes())
    for url in OFFLINE_ASSETS:
        path = asset_file(url)
        digest.update(url.encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:16]


@router.get(SERVICE_WORKER_URL)
def service_worker() -> Response:
    """The phone page's service worker. Served from the root so that it may control
    `/worker`; browsers check it for a new version on each visit (no-cache). Public: it holds
    code and asset names only, and a browser fetching it need not be signed in."""
    script = service_worker_script(SERVICE_WORKER.read_text(encoding="utf-8"), assets_version())
    return Response(script, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@router.get(MANIFEST_URL)
def web_app_manifest() -> Response:
    """The phone page's web app manifest (public: browsers fetch it without the cookie)."""
    return Response(manifest(), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})
