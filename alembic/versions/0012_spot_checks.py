"""Spot checks of grid workers, for the monthly assessment.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

import sqlalchemy as sa

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spot_check",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("worker_code", sa.String(64), nullable=False),
        sa.Column("grid_code", sa.String(64)),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checker", sa.String(100), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("score", sa.SmallInteger),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100",
                           name=op.f("ck_spot_check_score_range")),
    )
    op.create_index("ix_spot_check_worker_code_checked_at", "spot_check",
                    ["worker_code", "checked_at"])


def downgrade() -> None:
    op.drop_index("ix_spot_check_worker_code_checked_at", table_name="spot_check")
    op.drop_table("spot_check")
