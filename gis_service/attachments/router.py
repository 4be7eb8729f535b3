"""/api/v1/incidents/{id}/photos and /api/v1/photos/{id}: photos from the field."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gis_service import write_keys
from gis_service.attachments import service
from gis_service.attachments.models import IncidentPhoto
from gis_service.attachments.schemas import PhotoRead
from gis_service.auth.deps import PrincipalDep
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep

router = APIRouter(prefix="/api/v1", tags=["attachments"])


def to_read(photo: IncidentPhoto) -> PhotoRead:
    """The API view of a photo."""
    return PhotoRead(id=photo.id, incident_id=photo.incident_id,
                     content_type=photo.content_type, size=photo.size_bytes,
                     sha256=photo.sha256, taken_by=photo.taken_by,
                     created_at=photo.created_at, url=f"/api/v1/photos/{photo.id}")


@router.post("/incidents/{incident_id}/photos", status_code=201,
             responses={413: {"description": "larger than GIS_PHOTO_MAX_BYTES (8 MiB)"},
                        415: {"description": "not a JPEG, PNG or WebP image"}})
async def upload_photo(request: Request, response: Response, incident_id: int,
                       file: UploadFile, session: SessionDep, principal: PrincipalDep,
                       idempotency_key: Annotated[str | None, Header()] = None) -> PhotoRead:
    """Attach a photo (multipart field `file`) to an incident you may see; the upload is
    recorded in the incident's history with the photo's SHA-256. With an Idempotency-Key,
    the same photo sent again answers with the first (200) and is not stored twice."""
    max_bytes = context_of(request).settings.photo_max_bytes
    data = await file.read(max_bytes + 1)  # one byte more tells "too big" without reading all
    photo, made = await run_in_threadpool(_attach, session, principal, incident_id, data,
                                          max_bytes, idempotency_key)
    if not made:
        response.status_code = 200
    return photo


def _attach(session: Session, principal: Principal, incident_id: int, data: bytes,
            max_bytes: int, key: str | None) -> tuple[PhotoRead, bool]:
    now = datetime.now(UTC)
    digest = hashlib.sha256(data).hexdigest()
    if key is not None and not write_keys.claim(
            session, principal=principal, kind="photo", key=key,
            request_hash=write_keys.fingerprint(str(incident_id), digest),
            incident_id=incident_id, now=now):
        return to_read(write_keys.photo_made(session, principal=principal,
                                             incident_id=incident_id, sha256=digest)), False
    photo = service.attach(session, principal=principal, incident_id=incident_id, data=data,
                           max_bytes=max_bytes, now=now)
    return to_read(photo), True


@router.get("/incidents/{incident_id}/photos")
def list_photos(incident_id: int, session: SessionDep,
                principal: PrincipalDep) -> list[PhotoRead]:
    """The photos of an incident you may see, oldest first."""
    return [to_read(p) for p in service.photos(session, principal=principal,
                                               incident_id=incident_id)]


@router.get("/photos/{photo_id}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})
def get_photo(photo_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """A photo's bytes, when you may see its incident."""
    photo = service.photo(session, principal=principal, photo_id=photo_id)
    return Response(photo.data, media_type=photo.content_type,
                    headers={"ETag": f'"{photo.sha256}"',
                             "Cache-Control": "private, max-age=86400"})

