"""Index the history's closures by time (the wall's and the reports' closures per period) and
the incidents in hand by handler (the console's workload per handler).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # partial: one row in ~6 of the history is a closure, and only closures are counted so
    op.create_index("ix_incident_event_closed_at", "incident_event", ["at"],
                    postgresql_where=sa.text("action = 'close'"))
    # partial: a town has hundreds in hand among a year's tens of thousands
    op.create_index("ix_incident_in_hand", "incident", ["assignee_type", "assignee_code"],
                    postgresql_where=sa.text(
                        "status IN ('dispatched', 'accepted', 'in_progress')"))


def downgrade() -> None:
    op.drop_index("ix_incident_in_hand", "incident")
    op.drop_index("ix_incident_event_closed_at", "incident_event")
