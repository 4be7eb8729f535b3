"""Apply the Alembic migrations in `alembic/` to a database."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

from alembic import command

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind `connection` up to `revision` (commits on success)."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def migrated_engine(url: str) -> Engine:
    """An engine on `url`, after migrating that database to the newest revision."""
    engine = create_engine(url)
    with engine.connect() as connection:
        upgrade(connection)
        connection.commit()
    return engine
