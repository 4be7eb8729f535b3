"""Worker as read by the API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WorkerRead(BaseModel):
    """A worker's post, home area and AB backup."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    role: str
    grid_code: str | None
    district_code: str | None
    department_code: str | None
    backup_code: str | None
    on_duty: bool
