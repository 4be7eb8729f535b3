"""Patrol tracks walked by field accounts, and each account's last known position."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class PatrolTrack(Base):
    """One recorded walk: the line in storage CRS, who walked it, in which grid, when."""

    __tablename__ = "patrol_track"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    worker_code: Mapped[str | None] = mapped_column(String(64))
    grid_code: Mapped[str | None] = mapped_column(String(64))  # the account's scope then
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=STORAGE_SRID,
                                               spatial_index=False))
    point_count: Mapped[int] = mapped_column(Integer)
    length_m: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkerPosition(Base):
    """Where a field account was last seen (storage lon/lat), from a ping or a track."""

    __tablename__ = "worker_position"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
