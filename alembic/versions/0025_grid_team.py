"""The people of each grid beyond its grid worker (1+1+N, 三长六员).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08

Baoying works each grid "1+1+N" (a grid worker, a police group of a community officer and an
auxiliary, N volunteers; a liaison per village); Guanlin names its grid posts "三长六员". Each
member has a code (what an incident's `cooperating` names when a responsibility row brings the
grid's team in), a grid, a role (gis_service/people/team_roles.py) and a phone, which is
personal data shown whole to the command center only.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_team_member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("grid_code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("organisation", sa.String(200)),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_grid_team_member_grid_code", "grid_team_member", ["grid_code"])


def downgrade() -> None:
    op.drop_index("ix_grid_team_member_grid_code", "grid_team_member")
    op.drop_table("grid_team_member")
