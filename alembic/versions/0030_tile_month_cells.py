"""An index of the by-area aggregate's month rows by cell, for tiles without a window.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08

A tile without a window (or with whole months in it) reads the aggregate's month rows. Their
primary key starts (month, day, cx, …): with no bound on the day it walks every month row of
every cell of the county and keeps the tile's. At five years of a 15-town county (4.4 million
aggregate rows, 485,667 of them month rows) that was 129 ms for a z12 tile at p50; this
partial index of the month rows by (cx, cy) finds the tile's cells (103 ms; 62 → 45 ms at
z13), for 3.4 MB. Day rows need none: a window bounds their day, which the primary key finds.
The by-handler aggregate has its own month indexes by code (revision 0013).
"""

import sqlalchemy as sa

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incident_cell_month_cells", "incident_cell", ["cx", "cy"],
                    postgresql_where=sa.text("month"))


def downgrade() -> None:
    op.drop_index("ix_incident_cell_month_cells", table_name="incident_cell")
