"""Departments and duties by tier: county and town departments, a town's own duty rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

A department is a county body or a town's (`tier`), and names the town it belongs to or is
stationed in (`town_code`). A responsibility row with a `town_code` overrides the county-wide
row of its category in that town, so a category's code is unique per town, not overall; the
handler may be the county center itself (`county`). The history's escalations and returns are
indexed by time for the towns' league.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE department ADD COLUMN tier varchar(10) NOT NULL DEFAULT 'town' "
               "CONSTRAINT ck_department_tier_known CHECK (tier IN ('county', 'town'))")
    op.execute("ALTER TABLE department ADD COLUMN town_code varchar(64)")
    op.execute("ALTER TABLE category ADD COLUMN town_code varchar(64)")
    # the constraints were created under the project's naming convention; the plain names
    # are dropped too in case a database was made without it
    for name in ("uq_category_code", "category_code_key"):
        op.execute(f"ALTER TABLE category DROP CONSTRAINT IF EXISTS {name}")
    # one county-wide row per category (NULL town) and one per town: NULLs not distinct
    op.execute("ALTER TABLE category ADD CONSTRAINT uq_category_code_town "
               "UNIQUE NULLS NOT DISTINCT (code, town_code)")
    for name in ("ck_category_handler_known", "handler_known"):
        op.execute(f"ALTER TABLE category DROP CONSTRAINT IF EXISTS {name}")
    op.execute("ALTER TABLE category ADD CONSTRAINT ck_category_handler_known CHECK "
               "(handler IN ('grid', 'squad', 'department', 'town', 'county'))")
    # the league counts each town's escalations and returns of a month: a few in a hundred
    # history rows, found by time (partial, like the closures' index of migration 0010)
    op.execute("CREATE INDEX ix_incident_event_moved_at ON incident_event (at) "
               "WHERE action IN ('escalate', 'return')")


def downgrade() -> None:
    op.execute("DROP INDEX ix_incident_event_moved_at")
    op.execute("DELETE FROM category WHERE town_code IS NOT NULL OR handler = 'county'")
    op.execute("ALTER TABLE category DROP CONSTRAINT ck_category_handler_known")
    op.execute("ALTER TABLE category ADD CONSTRAINT ck_category_handler_known CHECK "
               "(handler IN ('grid', 'squad', 'department', 'town'))")
    op.execute("ALTER TABLE category DROP CONSTRAINT uq_category_code_town")
    op.execute("ALTER TABLE category ADD CONSTRAINT uq_category_code UNIQUE (code)")
    op.execute("ALTER TABLE category DROP COLUMN town_code")
    op.execute("ALTER TABLE department DROP COLUMN town_code")
    op.execute("ALTER TABLE department DROP COLUMN tier")
