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


@contextmanager
def _copied_database(engine: Engine, template: str) -> Iterator[str]:
    """A database copied from `template` (its files, no WAL replay: seconds for a loaded
    demo), dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # a copy needs the template alone: connections a finished load left idle are ended
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name"), {"name": template})
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" '
                                "STRATEGY FILE_COPY"))
    url = make_url(str(engine.url)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def demo_template(engine: Engine) -> Iterator[tuple[str, str]]:
    """The demo (the county with 七都) loaded once by `gis-service load-demo` for the whole
    session: (its database's name, the command's output). Modules copy it (`demo_copy`)
    instead of loading their own, which takes minutes each."""
    from typer.testing import CliRunner

    from gis_service.cli import app

    with _scratch_database(engine) as url:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DATABASE_URL", url)
            loaded = CliRunner().invoke(app, ["load-demo"])
        assert loaded.exit_code == 0, loaded.output
        name = make_url(url).database
        assert name is not None
        yield name, loaded.output


@pytest.fixture(scope="module")
def demo_copy(engine: Engine, demo_template: tuple[str, str]) -> Iterator[str]:
    """A module's own copy of the loaded demo: its URL."""
    with _copied_database(engine, demo_template[0]) as url:
        yield url
