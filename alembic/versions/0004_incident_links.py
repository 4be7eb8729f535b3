"""Links between incidents: possible duplicates found at intake, and merges.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_link",
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("other_id", sa.BigInteger, sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('possible_duplicate', 'merged_into')", name="kind_known"),
    )
    op.create_index("ix_incident_link_other_id", "incident_link", ["other_id"])
    # the duplicate search: same category and near in place, in one GiST (btree_gist), so
    # that it reads a few neighbours, not every recent report of that category
    op.execute("CREATE INDEX ix_incident_category_geom ON incident "
               "USING gist (category_code, geom)")


def downgrade() -> None:
    op.drop_index("ix_incident_category_geom", "incident")
    op.drop_table("incident_link")
