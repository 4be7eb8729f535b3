"""Subscription and delivery request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gis_service.events.catalog import EVENT_TYPES
from gis_service.incidents.schemas import Source

EventType = Literal["incident.created", "incident.updated", "incident.closed",
                    "incident.escalated", "enforcement.result", "plan.published"]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


class SubscriptionCreate(BaseModel):
    """An endpoint and what it selects; a filter left out selects everything."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="http(s); its host must be allowed by "
                                                  "GIS_WEBHOOK_ALLOWED_HOSTS")
    events: list[EventType] = Field(min_length=1)
    sources: list[Source] | None = Field(default=None, description="only incidents from these "
                                      "channels, e.g. hotline_12345")
    areas: list[str] | None = Field(default=None, description="only incidents in these grids, "
                                    "districts, towns or counties (codes)")
    assignees: list[str] | None = Field(default=None, description="only incidents held by "
                                        "these handlers, as type:code (grid_worker:W1)")
    description: str = Field(default="", max_length=400)
    contact_allowed: bool = Field(default=False, description="events carry reporters' names "
                                  "and phones whole (the 12345 platform); masked otherwise")


class SubscriptionRead(BaseModel):
    """A subscription as stored (its secret is shown only when made)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    events: list[str]
    sources: list[str] | None
    areas: list[str] | None
    assignees: list[str] | None
    contact_allowed: bool
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_by: str
    created_at: datetime


class SubscriptionMade(SubscriptionRead):
    """A new subscription with its signing secret (`whsec_…`), shown this once."""

    secret: str


class SubscriptionChange(BaseModel):
    """Enable a disabled endpoint again (its pending deliveries resume), or disable it."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool


class DeliveryRead(BaseModel):
    """A message on its way to the subscription."""

    id: int
    message_id: str = Field(description="the webhook-id header: the receiver's idempotency key")
    type: str
    incident_id: int | None
    version: int | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_try_at: datetime | None
    last_status: int | None
    last_error: str | None
    last_try_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    """Deliveries newest first; `next_before` pages on."""

    items: list[DeliveryRead]
    next_before: int | None


class PeerCreate(BaseModel):
    """Another platform whose events this one takes in: the county above (`county`, named by
    its county grid here) or a town below (`town`, named by its town grid here), and the
    secret the subscription sending them was given on the other side."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    kind: Literal["county", "town"]
    secret: str = Field(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")


class PeerRead(BaseModel):
    """A peer as stored (without its secret)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    kind: str
    created_at: datetime


class InboundOutcome(BaseModel):
    """What an event from a peer came to."""

    outcome: str
