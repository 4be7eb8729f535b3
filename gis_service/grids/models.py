"""Grid versions: one row per version of a grid; a version is never edited once published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, Integer, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class GridVersion(Base):
    """A grid as it was valid from `valid_from` until `valid_to` (open end = current)."""

    __tablename__ = "grid_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(40))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False)
    )
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class LayerChange(Base):
    """One row per change to any boundary layer: the locator reloads when the newest id moves."""

    __tablename__ = "layer_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(400), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
