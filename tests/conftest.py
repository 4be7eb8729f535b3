"""Test fixtures: one real PostGIS per test session (the project's own launcher, or
DATABASE_URL), migrated once; every test runs in a transaction that is rolled back."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from gis_service import migrations
from gis_service.embedded_pg import temporary_cluster

# Many services start in one test process: a full collection at each start costs ~0.1 s.
os.environ.setdefault("GIS_GC_FREEZE", "false")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """DATABASE_URL when set, else a throw-away embedded cluster stopped at the end."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    with temporary_cluster("gis-test-") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the migrated test database."""
    engine = migrations.migrated_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions on the test's connection; their commits become savepoints."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture()
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for the test, rolled back with the test's transaction."""
    with session_factory() as session:
        yield session


@contextmanager
def _scratch_database(engine: Engine) -> Iterator[str]:
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(str(engine.url)).set(database=name).render_as_string(hide_password=False)
    try:
        migrations.migrated_engine(url).dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture()
def scratch_url(engine: Engine) -> Iterator[str]:
    """A fresh, migrated database for tests that must really commit (several connections,
    the command line); dropped afterwards."""
    with _scratch_database(engine) as url:
        yield url


@pytest.fixture(scope="module")
def module_scratch_url(engine: Engine) -> Iterator[str]:
    """A fresh, migrated database shared by one module's tests (for data costly to load)."""
    with _scratch_database(engine) as url:
        yield url
