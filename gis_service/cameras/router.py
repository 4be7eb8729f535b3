"""GET /api/v1/cameras and /api/v1/cameras/{code}; the video scenes
(GET /api/v1/video-scenes, PUT /api/v1/video-scenes/{scene}).

The list is a reference layer, the same for every signed-in caller (`town=` narrows it to a
town, as the wall drilled into one asks). A camera's card adds its open incidents, only those
the caller may see. Both read from the read role (`ReadSessionDep`): the wall looks at them
and a few hundred milliseconds behind is fine.

The video scenes are county-wide reference data, the same for every signed-in caller, read on
the primary (a center that has just changed a row reads it back); the command center (admin,
commander, dispatcher) changes one row at a time, checked as `gis-service import
video_scenes` checks a file's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from gis_service.auth.deps import PrincipalDep, ViewerDep, role_in
from gis_service.auth.permissions import CENTER
from gis_service.auth.service import Principal
from gis_service.cameras import scenes, service
from gis_service.cameras.models import VideoScene
from gis_service.cameras.schemas import VideoSceneRead, VideoSceneWrite
from gis_service.context import context_of
from gis_service.database import ReadSessionDep, SessionDep
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


CenterDep = Annotated[Principal, Depends(role_in(CENTER, "只有指挥中心可以修改视频场景"))]


def _scene_read(row: VideoScene) -> VideoSceneRead:
    return VideoSceneRead(scene=row.scene, name=scenes.scene_name(row.scene),
                          category_code=row.category_code, min_confidence=row.min_confidence,
                          dwell_seconds=row.dwell_seconds,
                          needs_confirmation=row.needs_confirmation,
                          updated_by=row.updated_by, updated_at=row.updated_at)


@router.get("/video-scenes")
def list_video_scenes(session: SessionDep, principal: PrincipalDep) -> list[VideoSceneRead]:
    """What each camera scene (or GB/T 28181 video alarm type, `gb28181:<1-12>`) is as a
    matter of the responsibility list, and when its detections wait for a person."""
    return [_scene_read(row) for row in scenes.all_scenes(session)]


@router.put("/video-scenes/{scene}", responses={403: {"description": "not the command center"},
                                                422: {"description": "what is wrong"}})
def put_video_scene(scene: Annotated[str, Path(max_length=scenes.SCENE_MAX)],
                    body: VideoSceneWrite, session: SessionDep,
                    principal: CenterDep) -> VideoSceneRead:
    """Create or change one scene row (command center only); detections from now on follow
    it. Checked as an imported row is: a category of the responsibility list, a confidence
    from 0 to 1, whole seconds."""
    values = scenes.SceneValues(scene, body.category_code, repr(body.min_confidence),
                                str(body.dwell_seconds),
                                "yes" if body.needs_confirmation else "no")
    return _scene_read(scenes.put_scene(session, values, by=principal.username,
                                        now=datetime.now(UTC)))
