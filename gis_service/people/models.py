"""Departments, workers (a worker's `backup_code` is the B post of its AB pair) and the
people of each grid's team."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base

WORKER_ROLES = ("grid_worker", "squad_member", "squad_leader", "dispatcher", "department_staff")
TIERS = ("county", "town")  # a county body, or a town's own department


class Department(Base):
    """A town department or a county body a matter can be sent to. `town_code` is a town
    department's town, or the town a county department's staff are stationed in."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(10), default="town")
    town_code: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Worker(Base):
    """A person on a post: home grid (grid workers), district (squads) or department."""

    __tablename__ = "worker"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    grid_code: Mapped[str | None] = mapped_column(String(64), index=True)
    district_code: Mapped[str | None] = mapped_column(String(64))
    department_code: Mapped[str | None] = mapped_column(String(64))
    backup_code: Mapped[str | None] = mapped_column(String(64))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class GridTeamMember(Base):
    """One of a grid's people beyond its grid worker: the police group, volunteers, the
    liaison, the 三长六员 (`role`, one of people/team_roles.TEAM_ROLES). `phone` is personal
    data: the API shows it whole to the command center only (people/team.py)."""

    __tablename__ = "grid_team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    grid_code: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
