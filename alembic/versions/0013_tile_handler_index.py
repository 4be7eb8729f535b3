"""Indexes on the month rows of the by-handler aggregate, for squads' and departments' tiles.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22

A tile without a window (or with whole months in it) reads the aggregate's month rows. Their
primary key starts (month, day, cx, …): with no bound on the day it reads every month row of
the tile's cells, and for the by-handler aggregate that is ~8 times as many as a squad or a
department sees (1,000,000 incidents over a year: 48,608 month rows, a squad's 16,396). These
partial indexes find a scope's month rows by the codes it names (`incidents.scope.visible`,
restated on the aggregate by `tiles.queries.on_cells`): the district and the assignee, with ''
read as NULL as the query does, and the co-operating departments (GIN, for `cooperating @>
ARRAY[code]`). Day rows need none: a window bounds their day, which the primary key finds.
"""

import sqlalchemy as sa

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "incident_handler_cell"
MONTH_ROWS = sa.text("month")


def upgrade() -> None:
    for code in ("district_code", "assignee_code"):
        op.create_index(f"ix_{TABLE}_month_{code.removesuffix('_code')}", TABLE,
                        [sa.text(f"nullif({code}, '')"), "cx", "cy"],
                        postgresql_where=MONTH_ROWS)
    op.create_index(f"ix_{TABLE}_month_cooperating", TABLE, ["cooperating"],
                    postgresql_using="gin", postgresql_where=MONTH_ROWS)


def downgrade() -> None:
    for name in ("district", "assignee", "cooperating"):
        op.drop_index(f"ix_{TABLE}_month_{name}", table_name=TABLE)
