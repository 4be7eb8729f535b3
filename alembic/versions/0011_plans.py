"""Boundary plans: drafts of the grids, their edit log (undo, provenance), and publications.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        _time("based_on_at", nullable=False),
        sa.Column("source", sa.String(400), nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
    )
    op.create_table(
        "plan_grid",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.SmallInteger),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("parent_code", sa.String(64)),
        sa.Column("households", sa.Integer),
        sa.Column("population", sa.Integer),
        sa.Column("multipart", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4490, spatial_index=False),
                  nullable=False),
        sa.Column("source_version_id", sa.Integer, sa.ForeignKey("grid_version.id")),
        _time("edited_at", nullable=False),
        sa.Column("edited_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("plan_id", "code", name="uq_plan_grid_plan_id_code"),
    )
    op.create_index("ix_plan_grid_geom", "plan_grid", ["geom"], postgresql_using="gist")
    op.create_table(
        "plan_edit",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        _time("at", nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.Column("before", JSONB, nullable=False, server_default="[]"),
        sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("plan_id", "seq", name="uq_plan_edit_plan_id_seq"),
    )
    op.create_table(
        "plan_publication",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plan.id"), nullable=False),
        _time("effective_from", nullable=False),
        _time("published_at", nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("policy", sa.String(20), nullable=False),
        sa.Column("summary", JSONB, nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_table("plan_publication")
    op.drop_table("plan_edit")
    op.drop_table("plan_grid")
    op.drop_table("plan")
