"""Foundation: extensions, versioned grids, districts, zones, projects, people, addresses, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4490


def _timestamps() -> list[sa.Column]:
    return [sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                      nullable=False)]


def _gist(table: str) -> None:
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "grid_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.SmallInteger),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("parent_code", sa.String(64)),
        sa.Column("households", sa.Integer),
        sa.Column("population", sa.Integer),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
                  nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        sa.Column("source", sa.String(400), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_grid_version_code_version"),
        sa.CheckConstraint("level IS NULL OR level BETWEEN 1 AND 3", name="level_range"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity_order"),
    )
    op.create_index("ix_grid_version_code", "grid_version", ["code"])
    _gist("grid_version")
    # Two versions of one grid may never be valid at the same moment.
    op.execute(
        "ALTER TABLE grid_version ADD CONSTRAINT ex_grid_version_validity EXCLUDE USING gist "
        "(code WITH =, tstzrange(valid_from, valid_to) WITH &&)"
    )
    # Versions are immutable: only closing an open validity period is allowed.
    op.execute("""
        CREATE FUNCTION grid_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'grid versions are never deleted (code %%)', OLD.code;
          END IF;
          IF OLD.valid_to IS NOT NULL
             OR (to_jsonb(NEW) - 'valid_to') <> (to_jsonb(OLD) - 'valid_to') THEN
            RAISE EXCEPTION 'grid version % v% is immutable', OLD.code, OLD.version;
          END IF;
          RETURN NEW;
        END $$;
    """.replace("%%", "%"))
    op.execute(
        "CREATE TRIGGER grid_version_immutable BEFORE UPDATE OR DELETE ON grid_version "
        "FOR EACH ROW EXECUTE FUNCTION grid_version_immutable()"
    )

    op.create_table(
        "layer_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("source", sa.String(400), nullable=False, server_default=""),
        sa.Column("summary", JSONB, nullable=False, server_default="{}"),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
    )

    op.create_table(
        "district",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("squad_code", sa.String(64), nullable=False),
        sa.Column("squad_name", sa.String(200), nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
                  nullable=False),
        *_timestamps(),
    )
    _gist("district")

    op.create_table(
        "zone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
                  nullable=False),
        *_timestamps(),
    )
    _gist("zone")

    op.create_table(
        "project",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("GEOMETRY", srid=SRID, spatial_index=False), nullable=False),
        *_timestamps(),
    )
    _gist("project")

    op.create_table(
        "department",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
    )

    op.create_table(
        "worker",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("grid_code", sa.String(64)),
        sa.Column("district_code", sa.String(64)),
        sa.Column("department_code", sa.String(64)),
        sa.Column("backup_code", sa.String(64)),
        sa.Column("on_duty", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        *_timestamps(),
        sa.CheckConstraint(
            "role IN ('grid_worker','squad_member','squad_leader','dispatcher',"
            "'department_staff')", name="role_known"),
    )
    op.create_index("ix_worker_grid_code", "worker", ["grid_code"])

    op.create_table(
        "address_point",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("village", sa.String(200)),
        sa.Column("road", sa.String(200)),
        sa.Column("number", sa.String(60)),
        sa.Column("poi", sa.String(200)),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("POINT", srid=SRID, spatial_index=False), nullable=False),
    )
    _gist("address_point")
    op.execute("CREATE INDEX ix_address_point_address_trgm ON address_point "
               "USING gin (address gin_trgm_ops)")

    op.create_table(
        "account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scope_code", sa.String(64)),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint(
            "role IN ('admin','commander','dispatcher','planner','grid_worker','squad',"
            "'department')", name="role_known"),
    )
    op.create_table(
        "access_token",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer,
                  sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_access_token_account_id", "access_token", ["account_id"])


def downgrade() -> None:
    for table in ("access_token", "account", "address_point", "worker", "department",
                  "project", "zone", "district", "layer_change", "grid_version"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS grid_version_immutable()")
