"""GET /api/v1/districts, /zones, /projects, /stations."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep
from gis_service.database import SessionDep
from gis_service.geojson import GEOJSON_RESPONSES, collection_response
from gis_service.places import service

router = APIRouter(prefix="/api/v1", tags=["places"])


@router.get("/districts", responses=GEOJSON_RESPONSES, response_class=Response)
def list_districts(session: SessionDep, _: PrincipalDep) -> Response:
    """Enforcement districts and their squads, as GeoJSON."""
    return collection_response(service.district_features(session))


@router.get("/zones", responses=GEOJSON_RESPONSES, response_class=Response)
def list_zones(session: SessionDep, _: PrincipalDep) -> Response:
    """Protection zones, as GeoJSON."""
    return collection_response(service.zone_features(session))


@router.get("/projects", responses=GEOJSON_RESPONSES, response_class=Response)
def list_projects(session: SessionDep, _: PrincipalDep) -> Response:
    """Key projects, as GeoJSON."""
    return collection_response(service.project_features(session))


@router.get("/stations", responses=GEOJSON_RESPONSES, response_class=Response)
def list_stations(session: SessionDep, _: PrincipalDep) -> Response:
    """Village service stations, as GeoJSON points."""
    return collection_response(service.station_features(session))
