"""A plan is a draft copy of the town's grids; every edit is logged with the grids it touched
as they were before (undo, provenance); a publication records who made it live from when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class Plan(Base):
    """A draft (or, once published, the record of one): owner, name, note, and the moment of
    the boundaries it was copied from. `version` moves on every edit (If-Match)."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft|published|discarded
    based_on_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(400), default="")  # e.g. an imported file
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlanGrid(Base):
    """One grid of a plan, with the grid version it was copied from (None: new in the plan)."""

    __tablename__ = "plan_grid"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(40))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    multipart: Mapped[bool] = mapped_column(Boolean, default=False)  # may be several pieces
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID,
                                               spatial_index=False))
    source_version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_version.id"))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    edited_by: Mapped[str] = mapped_column(String(100))


class PlanEdit(Base):
    """One edit of a plan: what was done, and the touched grids as they were before
    (`before`: a list of grid rows as JSON, absent ones marked) so it can be undone."""

    __tablename__ = "plan_edit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    before: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanPublication(Base):
    """A plan made live: from when, by whom, the policy for open incidents, what changed."""

    __tablename__ = "plan_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str] = mapped_column(String(100))
    policy: Mapped[str] = mapped_column(String(20))  # keep | reroute
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
