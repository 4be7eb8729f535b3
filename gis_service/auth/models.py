"""Accounts with a role and an area scope; tokens are stored as SHA-256 hashes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base

# as people read them (static/labels.js says the same)
ROLE_NAMES = {"admin": "管理员", "commander": "指挥长", "dispatcher": "调度员",
              "planner": "规划员", "grid_worker": "网格员", "squad": "执法队员",
              "department": "部门人员", "team": "网格力量"}


class Account(Base):
    """Someone who signs in: a role, and the grid/district/department code they are scoped to."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    scope_code: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # the worker (people table) a field account is, for patrol tracks and positions
    worker_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class AccessToken(Base):
    """A bearer token (kind `api`) or a browser session (kind `session`), hashed."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"),
                                            index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
