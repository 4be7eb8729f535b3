"""A matter category of the responsibility list and its handler."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base

HANDLERS = ("grid", "squad", "department", "town")


class Category(Base):
    """One matter: who handles it (`handler`), who cooperates, and the step deadlines."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    handler: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(64))
    cooperating: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    respond_hours: Mapped[float] = mapped_column(Float)
    resolve_hours: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
