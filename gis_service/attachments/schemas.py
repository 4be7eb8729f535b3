"""Photo response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class PhotoRead(BaseModel):
    """A photo's record; its bytes are at `url`."""

    id: int
    incident_id: int
    content_type: str
    size: int
    sha256: str
    taken_by: str
    created_at: datetime
    url: str
