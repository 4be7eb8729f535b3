"""Alembic environment: runs on a connection handed in by `gis-service migrate` or the tests."""

from __future__ import annotations

from sqlalchemy import create_engine

from alembic import context
from gis_service import models_registry
from gis_service.config import Settings
from gis_service.database import database_url

target_metadata = models_registry.metadata()


def run_migrations() -> None:
    """Migrate over the given connection, or over a new one to the configured database."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url(Settings()))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
