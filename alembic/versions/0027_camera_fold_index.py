"""The open camera incidents by (camera, scene), so that a fold changes no indexed column.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-09

A detection that folds into an incident rewrites its row (count, last-seen time, history
head). 0026 indexed (camera_code, scene, last_seen_at): every fold then changed an indexed
column, so PostgreSQL wrote a new entry into each of the incident's indexes (GiST, GIN text
search and a dozen B-trees) and could never update the row in place (HOT). Indexed instead on
(camera_code, scene) over the open camera incidents a detection folds into, a fold changes
nothing any index holds. The states are the rule's (`incidents/core/detections.FOLDS_INTO`),
written out as the planner must match them (`incidents/sql/open_for_fold.sql` states the same;
a test holds the three equal).
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

FOLDS_INTO = ("accepted", "dispatched", "in_progress", "needs_confirmation", "needs_location",
              "registered", "reported", "returned")


def upgrade() -> None:
    states = ", ".join(f"'{state}'" for state in FOLDS_INTO)
    op.execute("DROP INDEX ix_incident_camera_seen")
    op.execute("CREATE INDEX ix_incident_camera_open ON incident (camera_code, scene) "
               f"WHERE camera_code IS NOT NULL AND status IN ({states})")


def downgrade() -> None:
    op.execute("DROP INDEX ix_incident_camera_open")
    op.execute("CREATE INDEX ix_incident_camera_seen ON incident "
               "(camera_code, scene, last_seen_at) WHERE camera_code IS NOT NULL")
