"""Cameras, and the camera an incident came from.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08

Each camera is kept by its GB/T 28181 code with the code's parts (division, industry, device
type, network) decoded on import, its position, lens direction (degrees from north), PTZ type
and owner. An incident reported by a camera names it (`camera_code`, null for every other
report); the wall's camera card lists a camera's open incidents through a partial index that
holds only the incidents that name a camera.
"""

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("division", sa.String(8), nullable=False),
        sa.Column("industry", sa.String(2), nullable=False),
        sa.Column("device_type", sa.String(3), nullable=False),
        sa.Column("network", sa.String(1), nullable=False),
        sa.Column("direction", sa.Float),
        sa.Column("ptz_type", sa.SmallInteger),
        sa.Column("owner", sa.String(200)),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("POINT", srid=4490, spatial_index=False), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("code ~ '^[0-9]{20}$'", name=op.f("ck_camera_code_digits")),
        sa.CheckConstraint("direction IS NULL OR (direction >= 0 AND direction < 360)",
                           name=op.f("ck_camera_direction_range")),
    )
    op.create_index("ix_camera_geom", "camera", ["geom"], postgresql_using="gist")
    op.add_column("incident", sa.Column("camera_code", sa.String(20)))
    op.create_index("ix_incident_camera_code", "incident", ["camera_code"],
                    postgresql_where=sa.text("camera_code IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_incident_camera_code", "incident")
    op.drop_column("incident", "camera_code")
    op.drop_table("camera")
