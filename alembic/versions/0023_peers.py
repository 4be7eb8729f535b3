"""Peers: the other platforms tickets are traded with, and the events taken in from them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

A county's platform and a town's run apart (区镇互联互通). Each subscribes the other's
`/api/v1/peers/{code}/events` and registers the other as a peer with the secret its
subscription was given; an event is applied once per `webhook-id` (peer_receipt).
"""

import sqlalchemy as sa

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('county', 'town')", name=op.f("ck_peer_kind")),
    )
    op.create_table(
        "peer_receipt",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("peer_code", sa.String(64), nullable=False),
        sa.Column("webhook_id", sa.String(100), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("peer_code", "webhook_id",
                            name=op.f("uq_peer_receipt_peer_code")),
    )


def downgrade() -> None:
    op.drop_table("peer_receipt")
    op.drop_table("peer")
