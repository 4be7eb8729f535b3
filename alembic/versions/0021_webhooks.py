"""Events out: subscriptions, the outbox of messages, and their deliveries.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

A message is written in the transaction of the change it tells of, and only when a
subscription selects it, with one delivery row per subscription; the delivery worker claims
due rows with FOR UPDATE SKIP LOCKED. Partial indexes keep the claim to the pending rows.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("events", sa.ARRAY(sa.Text), nullable=False),
        sa.Column("sources", sa.ARRAY(sa.Text)),
        sa.Column("areas", sa.ARRAY(sa.Text)),
        sa.Column("assignees", sa.ARRAY(sa.Text)),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("failing_since", WHEN),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "webhook_message",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("uid", sa.String(40), nullable=False,
                  unique=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("ordering_key", sa.String(40), nullable=False),
        sa.Column("incident_id", sa.BigInteger),
        sa.Column("version", sa.Integer),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("subscription_id", sa.BigInteger,
                  sa.ForeignKey("webhook_subscription.id", ondelete="CASCADE",
                                name=op.f("fk_webhook_delivery_subscription_id_webhook_"
                                          "subscription")), nullable=False),
        sa.Column("message_id", sa.BigInteger,
                  sa.ForeignKey("webhook_message.id", ondelete="CASCADE",
                                name=op.f("fk_webhook_delivery_message_id_webhook_message")),
                  nullable=False),
        sa.Column("ordering_key", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("next_try_at", WHEN),
        sa.Column("last_status", sa.SmallInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("last_try_at", WHEN),
        sa.Column("delivered_at", WHEN),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("subscription_id", "message_id",
                            name=op.f("uq_webhook_delivery_subscription_id")),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')",
                           name=op.f("ck_webhook_delivery_status")),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["next_try_at", "id"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_webhook_delivery_waiting", "webhook_delivery",
                    ["subscription_id", "ordering_key", "message_id"],
                    postgresql_where=sa.text("status = 'pending'"))
    # a subscription's deliveries, newest first (its deliveries page)
    op.create_index("ix_webhook_delivery_subscription_id", "webhook_delivery",
                    ["subscription_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_message")
    op.drop_table("webhook_subscription")
