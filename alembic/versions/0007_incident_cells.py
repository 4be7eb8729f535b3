"""Incident counts per map cell, per day and per month, for the low-zoom vector tiles.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

Two aggregates count the incidents with a place per cell (the Web-Mercator tile of zoom 16
their point lies in), China day (UTC+8) and status, and again per month (`month`: the row
counts the month that starts on `day`), each keyed by the codes one kind of scope names:
`incident_cell` by area (town, level-2 and level-3 grid, district), `incident_handler_cell`
by handler (district, assignee, co-operating departments). '' stands for no code, so that
codes can form the key. Statement-level triggers on `incident` append what each statement
changed, per day and with every code, to `incident_cell_delta` (no aggregate row is locked by
a writer, so concurrent intakes never wait on each other there); the service folds the delta
into both aggregates now and then, and readers add the delta, so counts are exact at any
moment (`gis_service/tiles/cells.py`).

The SQL lives here, not in the package's `.sql` files: a migration must keep meaning what it
meant when it was written.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AREA_CODES = ("town_code", "grid2_code", "grid3_code", "district_code")
HANDLER_CODES = ("district_code", "assignee_code", "cooperating")
CODES = ("town_code", "grid2_code", "grid3_code", "district_code", "assignee_code", "cooperating")
KEY = ("day", "cx", "cy", "status", *CODES)
AGGREGATES = {"incident_cell": AREA_CODES, "incident_handler_cell": HANDLER_CODES}

# Cell and day of a point and a report time; the Python twins are in gis_service/tiles/tiling.py.
FUNCTIONS = (
    """CREATE FUNCTION incident_cell_x(lon float8) RETURNS int
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT floor((lon + 180.0) / 360.0 * 65536)::int
       $$""",
    """CREATE FUNCTION incident_cell_y(lat float8) RETURNS int
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT floor((1.0 - ln(tan(radians(lat)) + 1.0 / cos(radians(lat))) / pi()) / 2.0
                      * 65536)::int
       $$""",
    """CREATE FUNCTION incident_cell_day(at timestamptz) RETURNS date
       LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
         SELECT ((at AT TIME ZONE 'UTC') + interval '8 hours')::date
       $$""",
)

# One row's key in the delta, for a transition table aliased `r`.
ROW_KEY = ("incident_cell_day(r.reported_at), incident_cell_x(ST_X(r.geom)), "
           "incident_cell_y(ST_Y(r.geom)), r.status, "
           + ", ".join(f"coalesce(r.{code}, '')" for code in CODES if code != "cooperating")
           + ", r.cooperating")


def _trigger_function(name: str, signed_rows: str) -> str:
    """A trigger function appending the summed changes of `signed_rows` (key, n) to the delta;
    keys whose changes cancel out (an update that moved nothing) are not written."""
    key = ", ".join(KEY)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO incident_cell_delta ({key}, n)
  SELECT {key}, sum(n) FROM ({signed_rows}) AS moved ({key}, n)
  GROUP BY {key} HAVING sum(n) <> 0;
  RETURN NULL;
END $$;
"""


def _rows(table: str, sign: int) -> str:
    return f"SELECT {ROW_KEY}, {sign} FROM {table} AS r WHERE r.geom IS NOT NULL"


def _columns(codes: tuple[str, ...]) -> list[sa.Column]:
    return [sa.Column("day", sa.Date, nullable=False),
            sa.Column("cx", sa.Integer, nullable=False),
            sa.Column("cy", sa.Integer, nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            *[sa.Column(code, ARRAY(sa.String(64)), nullable=False, server_default="{}")
              if code == "cooperating" else
              sa.Column(code, sa.String(64), nullable=False, server_default="")
              for code in codes],
            sa.Column("n", sa.Integer, nullable=False)]


def _aggregate(table: str, codes: tuple[str, ...]) -> None:
    op.create_table(table,
                    sa.Column("month", sa.Boolean, nullable=False, server_default=sa.false()),
                    *_columns(codes),
                    sa.PrimaryKeyConstraint("month", "day", "cx", "cy", "status", *codes,
                                            name=f"pk_{table}"))
    # rows whose count fell to zero, for the fold to sweep without reading the table
    op.create_index(f"ix_{table}_empty", table, ["day"], postgresql_where=sa.text("n = 0"))


def _fill(table: str, codes: tuple[str, ...]) -> None:
    """The day rows and month rows of an aggregate, from a delta holding every incident."""
    rest = ", ".join(("cx", "cy", "status", *codes))
    month = "CAST(date_trunc('month', day) AS date)"
    for is_month, day in (("false", "day"), ("true", month)):
        op.execute(f"INSERT INTO {table} (month, day, {rest}, n) "
                   f"SELECT {is_month}, {day}, {rest}, sum(n) FROM incident_cell_delta "
                   f"GROUP BY {day}, {rest}")


def upgrade() -> None:
    for table, codes in AGGREGATES.items():
        _aggregate(table, codes)
    op.create_table("incident_cell_delta", *_columns(CODES))
    for function in FUNCTIONS:
        op.execute(function)
    op.execute(_trigger_function("incident_cells_inserted", _rows("new_rows", 1)))
    op.execute(_trigger_function(
        "incident_cells_updated", f"{_rows('old_rows', -1)} UNION ALL {_rows('new_rows', 1)}"))
    op.execute(_trigger_function("incident_cells_deleted", _rows("old_rows", -1)))
    op.execute("""
        CREATE FUNCTION incident_cells_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          TRUNCATE incident_cell, incident_handler_cell, incident_cell_delta;
          RETURN NULL;
        END $$;
    """)
    op.execute("CREATE TRIGGER incident_cells_insert AFTER INSERT ON incident "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION incident_cells_inserted()")
    op.execute("CREATE TRIGGER incident_cells_update AFTER UPDATE ON incident "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION incident_cells_updated()")
    op.execute("CREATE TRIGGER incident_cells_delete AFTER DELETE ON incident "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION incident_cells_deleted()")
    op.execute("CREATE TRIGGER incident_cells_truncate AFTER TRUNCATE ON incident "
               "FOR EACH STATEMENT EXECUTE FUNCTION incident_cells_truncated()")
    # the incidents stored before this migration, through the delta
    key = ", ".join(KEY)
    op.execute(f"INSERT INTO incident_cell_delta ({key}, n) SELECT {key}, sum(n) "
               f"FROM ({_rows('incident', 1)}) AS stored ({key}, n) GROUP BY {key}")
    for table, codes in AGGREGATES.items():
        _fill(table, codes)
    op.execute("TRUNCATE incident_cell_delta")  # not DELETE: readers scan it whole


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS incident_cells_{name} ON incident")
    for name in ("inserted", "updated", "deleted", "truncated"):
        op.execute(f"DROP FUNCTION IF EXISTS incident_cells_{name}()")
    for name in ("incident_cell_x(float8)", "incident_cell_y(float8)",
                 "incident_cell_day(timestamptz)"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
    for table in ("incident_cell_delta", *AGGREGATES):
        op.drop_table(table)
