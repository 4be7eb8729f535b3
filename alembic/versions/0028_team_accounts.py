"""Accounts for the people of a grid's team (role `team`).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08

A grid team member (the community officer, an auxiliary, a volunteer, the village liaison:
`grid_team_member`) may sign in: scoped to its member code, it sees what it was brought in on
as cooperating and what lies in its grid, and reports from the phone page
(gis_service/incidents/scope.py says what it sees).
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

BEFORE = "'admin','commander','dispatcher','planner','grid_worker','squad','department'"


def _roles(known: str) -> None:
    # the check was created under the project's naming convention; the plain name is dropped
    # too in case a database was made without it
    op.execute("ALTER TABLE account DROP CONSTRAINT IF EXISTS ck_account_role_known")
    op.execute("ALTER TABLE account DROP CONSTRAINT IF EXISTS role_known")
    op.create_check_constraint("role_known", "account", f"role IN ({known})")


def upgrade() -> None:
    _roles(f"{BEFORE},'team'")


def downgrade() -> None:
    op.execute("DELETE FROM account WHERE role = 'team'")
    _roles(BEFORE)
