"""Apply the Alembic migrations in `alembic/` to a database."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection

from alembic import command

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind `connection` up to `revision` (commits on success)."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
