"""GET /api/v1/geocode: a hotline address placed on the map, with the locate answer there."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.geocode import service
from gis_service.geocode.area import area_names, service_area
from gis_service.locate.schemas import LocateResult

router = APIRouter(prefix="/api/v1", tags=["geocode"])


class GeocodeRead(BaseModel):
    """Where the address is (storage CRS), how sure (0–1), what it matched and at what level."""

    lon: float
    lat: float
    confidence: float
    matched: str
    method: str  # house, poi, road or village
    locate: LocateResult
    # whether a report with this address would be placed here without a person (a house or
    # POI); a road or village fall-back goes to the console as a candidate
    auto_place: bool


@router.get("/geocode", response_model=GeocodeRead,
            responses={404: {"description": "cannot place: a problem with `candidates` and "
                                            "the `reason` (e.g. a town not served here)"}})
def geocode(request: Request, session: SessionDep, _: PrincipalDep,
            q: Annotated[str, Query(min_length=1, max_length=400,
                                    description="the address as the caller gave it")],
            ) -> dict[str, Any]:
    """Place an address; 404 with `candidates` and a `reason` when it cannot be placed."""
    settings = context_of(request).settings
    snapshot = context_of(request).locator.current()
    area = service_area(snapshot, area_names(settings.service_area_names))
    result = service.geocode(session, q, min_confidence=settings.geocode_min_confidence,
                             area=area)
    return {"lon": result.lon, "lat": result.lat, "confidence": result.confidence,
            "matched": result.matched, "method": result.method,
            "locate": snapshot.locate_point(result.lon, result.lat),
            "auto_place": result.auto_place}
