"""Index incidents by when they were reported (the wall's last 30 days, reports by period).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_reported_at", "incident", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_incident_reported_at", "incident")
