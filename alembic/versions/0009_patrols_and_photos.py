"""Patrol tracks and last known positions of field accounts, photos attached to incidents,
and the worker a field account is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import BYTEA

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("account", sa.Column("worker_code", sa.String(64)))
    op.create_table(
        "patrol_track",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("worker_code", sa.String(64)),
        sa.Column("grid_code", sa.String(64)),
        _time("started_at", nullable=False),
        _time("ended_at", nullable=False),
        sa.Column("geom", Geometry("LINESTRING", srid=4490, spatial_index=False),
                  nullable=False),
        sa.Column("point_count", sa.Integer, nullable=False),
        sa.Column("length_m", sa.Float, nullable=False),
        _time("created_at", nullable=False),
    )
    op.create_index("ix_patrol_track_geom", "patrol_track", ["geom"], postgresql_using="gist")
    # the monthly coverage and the list read tracks by start time, per account
    op.create_index("ix_patrol_track_started_at", "patrol_track", ["started_at"])
    op.create_index("ix_patrol_track_account_id", "patrol_track", ["account_id", "started_at"])
    op.create_table(
        "worker_position",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("account.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        _time("at", nullable=False),
    )
    op.create_table(
        "incident_photo",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", BYTEA, nullable=False),
        sa.Column("taken_by", sa.String(100), nullable=False),
        _time("created_at", nullable=False),
    )
    op.create_index("ix_incident_photo_incident_id", "incident_photo", ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_photo")
    op.drop_table("worker_position")
    op.drop_table("patrol_track")
    op.drop_column("account", "worker_code")
