"""Camera events: the scenes that map to categories, the detections an incident folds in, and
the state `needs_confirmation`.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-09

`video_scene` maps what a camera reports (an algorithm's scene such as 占道经营, or a GB/T 28181
video alarm type written `gb28181:<1-12>`) to a category of the responsibility list, with the
confidence below which, and the time a stall must stay before which, a detection waits for a
person (`needs_confirmation` makes every detection of the scene wait).

A camera's incident keeps its scene, its best confidence, how many detections folded into it
and when it was last seen; `ix_incident_camera_seen` finds the incident a new detection of the
same camera and scene folds into (only camera incidents are in it). `video_detection` keeps the
external id of each folded detection, so that a detection sent again is answered with its
incident and not counted twice (the first detection's id is the incident's own).

`needs_confirmation` is an open state: the two partial indexes over the open states
(0014: the duplicate search, 0019: the open incidents by deadline) are made again with it. The
states are written out here, as they are now: a test checks they are still the lifecycle's
open states.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OPEN = ("accepted", "dispatched", "in_progress", "needs_confirmation", "needs_location",
        "registered", "reported", "resolved", "returned", "verified")
OPEN_BEFORE = tuple(state for state in OPEN if state != "needs_confirmation")


def _open_indexes(states: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{state}'" for state in states)
    op.execute("DROP INDEX IF EXISTS ix_incident_open_category_geom")
    op.execute("CREATE INDEX ix_incident_open_category_geom ON incident "
               f"USING gist (category_code, geom) WHERE status IN ({listed})")
    op.execute("DROP INDEX IF EXISTS ix_incident_open_due")
    op.execute(f"CREATE INDEX ix_incident_open_due ON incident (due_at, id) "
               f"WHERE status IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "video_scene",
        sa.Column("scene", sa.String(64), primary_key=True),
        sa.Column("category_code", sa.String(64), nullable=False),
        sa.Column("min_confidence", sa.Float, nullable=False),
        sa.Column("dwell_seconds", sa.Integer, nullable=False),
        sa.Column("needs_confirmation", sa.Boolean, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("updated_by", sa.String(100)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("min_confidence >= 0 AND min_confidence <= 1",
                           name=op.f("ck_video_scene_confidence_range")),
        sa.CheckConstraint("dwell_seconds >= 0", name=op.f("ck_video_scene_dwell_positive")),
    )
    op.add_column("incident", sa.Column("scene", sa.String(64)))
    op.add_column("incident", sa.Column("confidence", sa.Float))
    op.add_column("incident", sa.Column("detections", sa.Integer))
    op.add_column("incident", sa.Column("last_seen_at", sa.DateTime(timezone=True)))
    op.create_index("ix_incident_camera_seen", "incident",
                    ["camera_code", "scene", "last_seen_at"],
                    postgresql_where=sa.text("camera_code IS NOT NULL"))
    op.create_table(
        "video_detection",
        sa.Column("external_id", sa.String(120), primary_key=True),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_video_detection_incident_id", "video_detection", ["incident_id"])
    _open_indexes(OPEN)


def downgrade() -> None:
    op.execute("UPDATE incident SET status = 'reported' WHERE status = 'needs_confirmation'")
    _open_indexes(OPEN_BEFORE)
    op.drop_index("ix_video_detection_incident_id", "video_detection")
    op.drop_table("video_detection")
    op.drop_index("ix_incident_camera_seen", "incident")
    for column in ("last_seen_at", "detections", "confidence", "scene"):
        op.drop_column("incident", column)
    op.drop_table("video_scene")
