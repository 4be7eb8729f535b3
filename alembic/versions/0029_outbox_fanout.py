"""The outbox's fan-out moves from the change's transaction to the delivery worker.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

A change's transaction now writes only its messages, each with what a subscription selects
by (source, areas with the town, the town for its county, assignee) and no delivery rows; the
delivery worker fans them out (gis_service/events/sql/fanout.sql) and stamps `fanned_at`. The
partial index holds only the messages not yet fanned out. Messages stored before this
revision were fanned out when they were written, and are stamped so.
"""

import sqlalchemy as sa

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_message", sa.Column("source", sa.Text))
    op.add_column("webhook_message", sa.Column("town", sa.Text))
    op.add_column("webhook_message", sa.Column("areas", sa.ARRAY(sa.Text)))
    op.add_column("webhook_message", sa.Column("assignee", sa.Text))
    op.add_column("webhook_message", sa.Column("fanned_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE webhook_message SET fanned_at = at WHERE fanned_at IS NULL")
    op.create_index("ix_webhook_message_unfanned", "webhook_message", ["id"],
                    postgresql_where=sa.text("fanned_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_webhook_message_unfanned", table_name="webhook_message")
    for column in ("fanned_at", "assignee", "areas", "town", "source"):
        op.drop_column("webhook_message", column)
