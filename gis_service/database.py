"""Persistence plumbing: the declarative Base, engine construction, the per-request session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from gis_service.config import Settings
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


def make_engine(settings: Settings) -> Engine:
    """A pooled engine for the configured database (made in the app's lifespan, never at import)."""
    return create_engine(database_url(settings), pool_size=10, max_overflow=10,
                         pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed at the end (rolled back unless a service committed)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
