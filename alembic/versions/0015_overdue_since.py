"""An incident keeps the moment its first deadline was missed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Escalating an overdue incident gives its new handler a fresh deadline; without a record of
the one missed, the incident stopped counting as overdue the moment it was handed up (the
wall's 超期 fell from 323 to 0 a minute after start). `overdue_since` holds the first missed
deadline and is never cleared: the wall, the on-time rate and the assessment read it. Rows
escalated before this migration carry the missed deadline in their escalation history; they
are filled from it here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("incident", sa.Column("overdue_since", sa.DateTime(timezone=True)))
    op.execute("""
        UPDATE incident i SET overdue_since = e.was_due
        FROM (SELECT incident_id, min((detail->>'was_due')::timestamptz) AS was_due
              FROM incident_event
              WHERE action = 'escalate' AND detail->>'reason' = 'overdue'
                AND detail->>'was_due' IS NOT NULL
              GROUP BY incident_id) e
        WHERE e.incident_id = i.id""")


def downgrade() -> None:
    op.drop_column("incident", "overdue_since")
