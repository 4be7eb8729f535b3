"""GET /api/v1/grids and /api/v1/grids/{code}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep
from gis_service.database import SessionDep
from gis_service.geojson import GEOJSON_RESPONSES, collection_response, feature_response
from gis_service.grids import service

router = APIRouter(prefix="/api/v1", tags=["grids"])
AtQuery = Annotated[datetime | None, Query(description="ISO time; default now")]


@router.get("/grids", responses=GEOJSON_RESPONSES, response_class=Response)
def list_grids(session: SessionDep, _: PrincipalDep, at: AtQuery = None,
               level: Annotated[int | None, Query(ge=1, le=3)] = None,
               parent: str | None = None, kind: str | None = None) -> Response:
    """Grids valid at `at`, filtered by level, parent code and kind, as GeoJSON."""
    return collection_response(service.list_grid_features(
        session, at=at, level=level, parent=parent, kind=kind))


@router.get("/grids/{code}", responses=GEOJSON_RESPONSES, response_class=Response)
def get_grid(code: str, session: SessionDep, principal: PrincipalDep,
             at: AtQuery = None) -> Response:
    """One grid as valid at `at`, as a GeoJSON Feature; `team` lists its people beyond the
    grid worker (the police group, volunteers, liaison, 三长六员) with their phones whole for
    the command center and masked for others, or is null for callers not to see it."""
    return feature_response(service.get_grid_feature(session, code=code, principal=principal,
                                                     at=at))
