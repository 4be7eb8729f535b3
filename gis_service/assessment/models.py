"""Spot checks: a center officer's on-site check of a grid worker, one input of the assessment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base


class SpotCheck(Base):
    """One check of a worker: who checked, when, passed or not, an optional 0–100 score."""

    __tablename__ = "spot_check"
    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_spot_check_worker_code_checked_at", "worker_code", "checked_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    worker_code: Mapped[str] = mapped_column(String(64))
    grid_code: Mapped[str | None] = mapped_column(String(64))  # the worker's grid then
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checker: Mapped[str] = mapped_column(String(100))  # the checking account's username
    passed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
