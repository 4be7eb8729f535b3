"""The outbox and its subscribers: who wants which events (a subscription), each event as
written with the change (a message), and each message's way to each subscriber (a delivery,
with its attempts and next try)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gis_service.database import Base

DELIVERY_STATES = ("pending", "delivered", "failed")


class Subscription(Base):
    """An endpoint and what it selects: event types, and optionally sources, areas (grid,
    district, town or county codes) and assignees (`type:code`); none = everything. The
    secret signs every delivery (shown once, when made). A disabled subscription keeps its
    pending deliveries until it is enabled again."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    sources: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    areas: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    assignees: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    secret: Mapped[str] = mapped_column(Text)
    contact_allowed: Mapped[bool] = mapped_column(Boolean, default=False)  # reporters unmasked
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """One event as it was when the change was stored: its id (`webhook-id`, the receivers'
    idempotency key), type, time and body, and what subscriptions select it by (source,
    areas with the town, the town for its county, assignee). Messages of one `ordering_key`
    (an incident, a plan) are delivered in id order, which is the order their changes were
    stored in. `fanned_at` is unset until the delivery worker has written its deliveries."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        # the delivery worker's fan-out: the messages not yet fanned out, in id order
        Index("ix_webhook_message_unfanned", "id", postgresql_where=text(
            "fanned_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40))  # no index: nothing looks it up (0031)
    type: Mapped[str] = mapped_column(String(40))
    ordering_key: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text)
    areas: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    assignee: Mapped[str | None] = mapped_column(Text)
    fanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """A message on its way to one subscription: `pending` until a 2xx answer (`delivered`)
    or the retry schedule runs out (`failed`); the next try, the attempts so far and the last
    answer or error."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "message_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        # the worker's claim: the pending deliveries due, in order
        Index("ix_webhook_delivery_due", "next_try_at", "id", postgresql_where=text(
            "status = 'pending'")),
        # …and whether an earlier event of the same incident is still pending for the same
        # subscription (then this one waits: per incident, events arrive in order)
        Index("ix_webhook_delivery_waiting", "subscription_id", "ordering_key", "message_id",
              postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_delivery_subscription_id", "subscription_id", "id"),  # its page
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_message.id", ondelete="CASCADE"))
    ordering_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_try_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Peer(Base):
    """Another platform this one trades tickets with (区镇互联互通): the county's platform above
    a town's, or a town's below the county's. Its events come in signed with `secret` (the
    secret its subscription to this platform was given), to `/api/v1/peers/{code}/events`."""

    __tablename__ = "peer"
    __table_args__ = (CheckConstraint("kind IN ('county', 'town')", name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PeerReceipt(Base):
    """An event taken in from a peer, by its `webhook-id`: one sent again is answered and
    not applied twice."""

    __tablename__ = "peer_receipt"
    __table_args__ = (UniqueConstraint("peer_code", "webhook_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    peer_code: Mapped[str] = mapped_column(String(64))
    webhook_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
