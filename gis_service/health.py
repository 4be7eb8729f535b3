"""GET /health: is the service up and can it reach its database."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from gis_service.context import context_of
from gis_service.jsonresponse import JSONBytesResponse

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> JSONBytesResponse:
    """200 with the PostGIS version when the database answers, 503 otherwise."""
    try:
        with context_of(request).session_factory() as session:
            postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except Exception as exc:  # any database failure means "not healthy", reported as such
        return JSONBytesResponse({"status": "unavailable", "database": str(exc).splitlines()[0]},
                              status_code=503)
    return JSONBytesResponse({"status": "ok", "postgis": postgis})
