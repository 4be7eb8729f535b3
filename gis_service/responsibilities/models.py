"""A matter category of the responsibility list and its handler."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base

HANDLERS = ("grid", "squad", "department", "town", "county")


class Category(Base):
    """One matter's duty: who handles it (`handler`), who cooperates, and the step deadlines.
    A row with a `town_code` overrides the county-wide row (no town) in that town, so a code
    is unique per town (migration 0017)."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    town_code: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    handler: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(64))
    cooperating: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    respond_hours: Mapped[float] = mapped_column(Float)
    resolve_hours: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ZoneRule(Base):
    """Data, not code: matters of `categories` inside a zone of `zone_level` (or a key
    project's area) get `priority`, deadlines times `deadline_factor`, and co-handlers."""

    __tablename__ = "zone_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    zone_level: Mapped[int | None] = mapped_column(SmallInteger)
    in_project: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    deadline_factor: Mapped[float] = mapped_column(Float, default=1.0)
    cooperating: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    note: Mapped[str] = mapped_column(Text, default="")
