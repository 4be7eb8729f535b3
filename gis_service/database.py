"""Persistence plumbing: the declarative Base, engine construction, the per-request session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from gis_service.config import Settings
from gis_service.context import context_of
from gis_service.embedded_pg import EmbeddedCluster

STORAGE_SRID = 4490  # CGCS2000 geographic lon/lat; see README "Coordinates"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; constraint names follow NAMING so migrations stay stable."""

    metadata = MetaData(naming_convention=NAMING)


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set, else the embedded cluster's socket URL."""
    if settings.database_url:
        return settings.database_url
    return EmbeddedCluster(settings.home).url()


# A pooled connection idle longer than this is checked before use. Checking every checkout
# (SQLAlchemy's pool_pre_ping) cost a round trip per request, an eighth of the intake's time
# under load; a connection in steady use is known to be alive. After a database restart a
# connection used within this window fails its first statement once; SQLAlchemy then
# replaces every pooled connection.
IDLE_CHECK_SECONDS = 2.0


def make_engine(settings: Settings) -> Engine:
    """A pooled engine for the configured database (made in the app's lifespan, never at import)."""
    engine = create_engine(database_url(settings), pool_size=10, max_overflow=10)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _check_if_idle)
    return engine


def _note_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry,
                   proxy: PoolProxiedConnection) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_CHECK_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except psycopg.Error as exc:
        raise DisconnectionError("a pooled connection died while idle") from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed at the end (rolled back unless a service committed)."""
    factory = context_of(request).session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
