"""GET /api/v1/cameras and /api/v1/cameras/{code}.

The list is a reference layer, the same for every signed-in caller (`town=` narrows it to a
town, as the wall drilled into one asks). A camera's card adds its open incidents, only those
the caller may see. Both read from the read role (`ReadSessionDep`): the wall looks at them
and a few hundred milliseconds behind is fine."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gis_service.auth.deps import ViewerDep
from gis_service.cameras import service
from gis_service.context import context_of
from gis_service.database import ReadSessionDep
from gis_service.geojson import GEOJSON_RESPONSES, collection_response, feature_response

router = APIRouter(prefix="/api/v1", tags=["cameras"])


@router.get("/cameras", responses=GEOJSON_RESPONSES, response_class=Response)
def list_cameras(session: ReadSessionDep, principal: ViewerDep) -> Response:
    """Cameras (GB/T 28181) with their code's parts, lens direction, PTZ type and owner, as
    GeoJSON points; `town=` only those inside that town."""
    return collection_response(service.camera_features(session, town=principal.viewing,
                                                       now=datetime.now(UTC)))


@router.get("/cameras/{code}", responses=GEOJSON_RESPONSES, response_class=Response)
def get_camera(request: Request, code: str, session: ReadSessionDep,
               principal: ViewerDep) -> Response:
    """One camera with its open incidents (`open_items`, those the caller may see)."""
    share = float(context_of(request).settings.deadline_yellow_share)
    return feature_response(service.camera_card(session, principal=principal, code=code,
                                                now=datetime.now(UTC), yellow_share=share))
