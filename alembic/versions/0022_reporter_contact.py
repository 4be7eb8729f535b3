"""The reporter's contact details on an incident, and subscriptions allowed to receive them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

A hotline ticket names who called (the 12345 platform calls them back, 回访). The center sees
the contact in full; the API masks it for others, and events carry it whole only to a
subscription marked `contact_allowed`.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incident", sa.Column("contact", JSONB))
    op.add_column("webhook_subscription",
                  sa.Column("contact_allowed", sa.Boolean, nullable=False,
                            server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("webhook_subscription", "contact_allowed")
    op.drop_column("incident", "contact")
