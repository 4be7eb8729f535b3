"""Ratings of county department staff stationed in a town, by the town and by the county.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

A county department's staff stationed in a town are assessed by both: the town holds at least
half of the weight (a setting), the department the rest. One row per staff member, month and
party; rating again replaces the row.

The facts beside the ratings count what the department was handed in the town in a month: a
partial index on the events that hand a ticket to a department keeps that a range read.
"""

import sqlalchemy as sa

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stationed_rating",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("worker_code", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("party", sa.String(10), nullable=False),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("rater", sa.String(100), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100",
                           name=op.f("ck_stationed_rating_score_range")),
        sa.CheckConstraint("party IN ('town', 'county')", name=op.f("ck_stationed_rating_party")),
        sa.UniqueConstraint("worker_code", "month", "party",
                            name=op.f("uq_stationed_rating_worker_code")),
    )
    op.execute("CREATE INDEX ix_incident_event_to_department ON incident_event (at) "
               "WHERE after->>'assignee_type' = 'department'")


def downgrade() -> None:
    op.execute("DROP INDEX ix_incident_event_to_department")
    op.drop_table("stationed_rating")
