"""Cameras: one row per GB/T 28181 camera code, its parts decoded on import (gbcode.py); and
the scenes a camera reports, each mapped to a category (scenes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import Boolean, DateTime, Float, Integer, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class Camera(Base):
    """A camera where it stands, where its lens looks and who runs it."""

    __tablename__ = "camera"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    division: Mapped[str] = mapped_column(String(8))  # the code's parts, for filtering
    industry: Mapped[str] = mapped_column(String(2))
    device_type: Mapped[str] = mapped_column(String(3))
    network: Mapped[str] = mapped_column(String(1))
    direction: Mapped[float | None] = mapped_column(Float)  # degrees clockwise from north
    ptz_type: Mapped[int | None] = mapped_column(SmallInteger)  # catalog.PTZ_TYPES
    owner: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class VideoScene(Base):
    """What a camera reports (an algorithm's scene, or `gb28181:<alarm type>`) as a matter of
    the responsibility list, and when a detection of it waits for a person: below
    `min_confidence`, before the stall has stayed `dwell_seconds`, or always
    (`needs_confirmation`)."""

    __tablename__ = "video_scene"

    scene: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(64))
    min_confidence: Mapped[float] = mapped_column(Float)
    dwell_seconds: Mapped[int] = mapped_column(Integer)
    needs_confirmation: Mapped[bool] = mapped_column(Boolean)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
