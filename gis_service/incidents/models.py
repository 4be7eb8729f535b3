"""Incidents, their append-only hash-chained history, and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import STORAGE_SRID, Base


class Incident(Base):
    """A report from any channel, where it is, who handles it, and how far it has come."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(120))
    category_code: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(400))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=STORAGE_SRID, spatial_index=False))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    town_code: Mapped[str | None] = mapped_column(String(64))
    grid2_code: Mapped[str | None] = mapped_column(String(64))
    grid3_code: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(String(64))
    zone_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    special_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    assignee_type: Mapped[str | None] = mapped_column(String(20))
    assignee_code: Mapped[str | None] = mapped_column(String(64))
    cooperating: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    escalation_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    respond_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the first deadline this incident missed; kept when escalation sets a fresh one
    overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    parent_ticket_id: Mapped[str | None] = mapped_column(String(120))
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # the reporter's (contact.py)
    camera_code: Mapped[str | None] = mapped_column(String(20))  # a camera's report: which camera
    # a camera's incident (null for every other): the scene it saw, the surest detection's
    # confidence, how many detections folded into it (the first included), the newest one's time
    scene: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    detections: Mapped[int | None] = mapped_column(Integer)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(20))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    history_head: Mapped[str] = mapped_column(String(64), default="")
    history_length: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IncidentEvent(Base):
    """One change to an incident; rows are never updated or deleted, each hashes the one
    before it, and the incident keeps the newest hash (`history_head`)."""

    __tablename__ = "incident_event"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """An `Idempotency-Key` seen on intake: in flight until `incident_id` is set."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IncidentLink(Base):
    """`incident_id` is a possible duplicate of, or was merged into, `other_id`."""

    __tablename__ = "incident_link"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VideoDetection(Base):
    """A camera detection that folded into an incident, by the external id it was sent with:
    the same detection sent again is answered with its incident and not counted twice."""

    __tablename__ = "video_detection"

    external_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
