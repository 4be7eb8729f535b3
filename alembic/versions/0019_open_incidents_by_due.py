"""The open incidents in deadline order: a partial index for the overdue list and queues.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

A county's history is almost all closed. The list is read in deadline order (`due_at, id`),
and the overdue filter (open, and past a deadline) matched the oldest closed incidents first:
over 1,000,000 incidents of which 20,000 were open, the overdue page took 950 ms as the county
center (bench/bench_county.py). Indexing only the open ones, in that order, lets the page start
at the first open incident. The states are the lifecycle's open states
(`incidents/core/lifecycle.OPEN_STATES`), written out as the planner must match them.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OPEN = ("accepted", "dispatched", "in_progress", "needs_location", "registered", "reported",
        "resolved", "returned", "verified")


def upgrade() -> None:
    states = ", ".join(f"'{s}'" for s in OPEN)
    op.execute(f"CREATE INDEX ix_incident_open_due ON incident (due_at, id) "
               f"WHERE status IN ({states})")


def downgrade() -> None:
    op.execute("DROP INDEX ix_incident_open_due")
