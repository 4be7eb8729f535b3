"""Spot checks (a center officer's on-site check of a grid worker, one input of the
assessment) and the two parties' ratings of county staff stationed in a town."""

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
    UniqueConstraint,
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


class StationedRating(Base):
    """One party's 0–100 rating of a county department's staff member stationed in a town,
    for one month: the town's (`town`) or the county department's (`county`). Rating again
    replaces the party's rating, keeping who rated last and when."""

    __tablename__ = "stationed_rating"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("party IN ('town', 'county')", name="party"),
        UniqueConstraint("worker_code", "month", "party"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    worker_code: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, China time
    party: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    rater: Mapped[str] = mapped_column(String(100))  # the rating account's username
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
