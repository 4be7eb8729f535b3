"""Grid level 0: the county (or district) above its towns.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Towns name the county grid as their parent and tile it exactly, as every other level tiles
its parent; a deployment with no county grid works as before (a town with no parent).
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the check was created under the project's naming convention; the plain name is dropped
    # too in case a database was made without it
    op.execute("ALTER TABLE grid_version DROP CONSTRAINT IF EXISTS ck_grid_version_level_range")
    op.execute("ALTER TABLE grid_version DROP CONSTRAINT IF EXISTS level_range")
    op.create_check_constraint("level_range", "grid_version",
                               "level IS NULL OR level BETWEEN 0 AND 3")


def downgrade() -> None:
    op.drop_constraint("level_range", "grid_version", type_="check")
    op.create_check_constraint("level_range", "grid_version",
                               "level IS NULL OR level BETWEEN 1 AND 3")
