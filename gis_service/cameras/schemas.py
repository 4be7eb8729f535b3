"""Video scene request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class VideoSceneWrite(BaseModel):
    """One scene row as the command center sets it (the scene is in the path)."""

    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(max_length=64, description="a category of the responsibility "
                                                          "list")
    min_confidence: float = Field(ge=0, le=1, description="below it a detection waits for a "
                                                          "person")
    dwell_seconds: int = Field(default=0, ge=0, le=86_400, description=(
        "a detection waits for a person until the stall has stayed this long since first seen"))
    needs_confirmation: bool = Field(default=False, description="every detection waits for a "
                                                                "person")


class VideoSceneRead(BaseModel):
    """A scene row; `name` is how a person reads it (a GB/T 28181 alarm type's name)."""

    scene: str
    name: str
    category_code: str
    min_confidence: float
    dwell_seconds: int
    needs_confirmation: bool
    updated_by: str | None
    updated_at: datetime
