"""Responsibility list and zone rules, incidents, their hash-chained history, idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _codes(name: str) -> sa.Column:
    return sa.Column(name, ARRAY(sa.String(64)), nullable=False, server_default="{}")


def _time(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("handler", sa.String(20), nullable=False),
        sa.Column("department_code", sa.String(64)),
        _codes("cooperating"),
        sa.Column("respond_hours", sa.Float, nullable=False),
        sa.Column("resolve_hours", sa.Float, nullable=False),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint("handler IN ('grid','squad','department','town')",
                           name="handler_known"),
    )
    op.create_table(
        "zone_rule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("zone_level", sa.SmallInteger),
        sa.Column("in_project", sa.Boolean, nullable=False, server_default=sa.false()),
        _codes("categories"),
        sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("deadline_factor", sa.Float, nullable=False, server_default="1"),
        _codes("cooperating"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("external_id", sa.String(120)),
        sa.Column("category_code", sa.String(64)),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.String(400)),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("geom", Geometry("POINT", srid=4490, spatial_index=False)),
        _time("reported_at", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("town_code", sa.String(64)),
        sa.Column("grid2_code", sa.String(64)),
        sa.Column("grid3_code", sa.String(64)),
        sa.Column("district_code", sa.String(64)),
        _codes("zone_codes"),
        _codes("special_codes"),
        sa.Column("assignee_type", sa.String(20)),
        sa.Column("assignee_code", sa.String(64)),
        _codes("cooperating"),
        sa.Column("escalation_level", sa.SmallInteger, nullable=False, server_default="0"),
        _time("respond_due_at"),
        _time("due_at"),
        sa.Column("parent_ticket_id", sa.String(120)),
        sa.Column("resolution", sa.String(20)),
        sa.Column("satisfaction", sa.SmallInteger),
        sa.Column("candidates", JSONB),
        sa.Column("history_head", sa.String(64), nullable=False, server_default=""),
        sa.Column("history_length", sa.Integer, nullable=False, server_default="0"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _time("created_at", nullable=False),
        _time("updated_at", nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_incident_source_external_id"),
    )
    op.create_index("ix_incident_geom", "incident", ["geom"], postgresql_using="gist")
    # the list's keyset order (most urgent first) and its common filters
    op.create_index("ix_incident_due", "incident", ["due_at", "id"])
    op.create_index("ix_incident_status_due", "incident", ["status", "due_at", "id"])
    op.create_index("ix_incident_grid3", "incident", ["grid3_code", "due_at", "id"])
    op.create_index("ix_incident_grid2", "incident", ["grid2_code", "due_at", "id"])
    op.create_index("ix_incident_district", "incident", ["district_code", "due_at", "id"])
    op.create_index("ix_incident_category", "incident", ["category_code", "due_at", "id"])

    op.create_table(
        "incident_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        _time("at", nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("before", JSONB, nullable=False, server_default="{}"),
        sa.Column("after", JSONB, nullable=False, server_default="{}"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("incident_id", "seq", name="uq_incident_event_incident_id"),
    )
    # (incident_id, seq) is unique: that index also serves look-ups by incident
    # History is append-only: the database itself refuses edits and deletions.
    op.execute("""
        CREATE FUNCTION incident_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'incident history is append-only';
        END $$;
    """)
    op.execute("CREATE TRIGGER incident_event_append_only BEFORE UPDATE OR DELETE "
               "ON incident_event FOR EACH ROW EXECUTE FUNCTION incident_event_append_only()")

    op.create_table(
        "idempotency_key",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.BigInteger),
        _time("created_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_key")
    op.drop_table("incident_event")
    op.execute("DROP FUNCTION IF EXISTS incident_event_append_only()")
    op.drop_table("incident")
    op.drop_table("zone_rule")
    op.drop_table("category")
