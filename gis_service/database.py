"""Persistence plumbing: the declarative Base, the engines of the two connection roles, the
per-request sessions.

Two roles. DATABASE_URL, the primary, takes every write and the reads that must see them
(`SessionDep`). GIS_READ_DATABASE_URL, when set (a replica, or a load balancer's read port),
serves the reads that may lag a little (`ReadSessionDep`, `read_session`): the wall, tiles,
OGC API, exports, reports, hotspots. Without it both roles are the primary's one pool and
nothing below costs a round trip.

Read-your-own-writes: a replica may not have replayed what the caller has just written.
After a successful write request (`WriteMark`, only when there is a read role) the answer
carries the primary's WAL position, past the commit of what the request wrote, as the
header `GIS-LSN` and the cookie `gis_lsn` (a minute). A read-role request that sends one back
(the header, else the cookie) first checks, on the very connection that will serve it (behind
a load balancer another connection may be another replica), that the replica has replayed
that far; it polls for up to `REPLAY_WAITS` (~0.2 s) and is otherwise served by the primary.
A request that sends none costs nothing more.

Fail-over: both engines count a write refused as read-only (25006, a demoted leader) and a
server shutting down, crashed or not yet accepting connections (57P01/57P02/57P03) as a
disconnect, so the pool renews its connections; errors.py answers 503 with Retry-After.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders

from gis_service.config import Settings
from gis_service.context import AppContext, app_context, context_of
from gis_service.embedded_pg import EmbeddedCluster

logger = logging.getLogger(__name__)

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


# SQLSTATEs after which a connection is renewed: a write on a server that is no longer (or not)
# the primary, an administrator's or a crash's shutdown, a server starting or stopping
DISCONNECT_STATES = frozenset({"25006", "57P01", "57P02", "57P03"})


def make_engine(settings: Settings) -> Engine:
    """The primary's pooled engine (made in the app's lifespan, never at import)."""
    engine = _pooled(database_url(settings))
    event.listen(engine, "checkin", _leave_standby)
    return engine


def make_read_engine(settings: Settings) -> Engine | None:
    """The read role's pooled engine, with the primary's pool settings; None when
    GIS_READ_DATABASE_URL is not set (reads then use the primary's engine)."""
    return _pooled(settings.read_database_url) if settings.read_database_url else None


def _pooled(url: str) -> Engine:
    engine = create_engine(url, pool_size=10, max_overflow=10)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _check_if_idle)
    event.listen(engine, "handle_error", _renew_on_server_change)
    return engine


def _renew_on_server_change(context: ExceptionContext) -> None:
    """A demoted leader, a shutdown, a crash, a server not accepting connections now: counted
    as a disconnect, so SQLAlchemy drops the pool's connections and connects anew (to the new
    leader, through the URL's hosts or the load balancer)."""
    if getattr(context.original_exception, "sqlstate", None) in DISCONNECT_STATES:
        context.is_disconnect = True


def _leave_standby(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """A primary's connection that finds itself on a standby (it reports `in_hot_standby`
    at connect, PostgreSQL 14+: no round trip) is not kept: writes through the driver (the
    intake) never pass SQLAlchemy's error handling, so they would meet it again and again."""
    if dbapi_connection is not None and \
            dbapi_connection.info.parameter_status("in_hot_standby") == "on":
        record.invalidate()


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


LSN_HEADER = "GIS-LSN"
LSN_COOKIE = "gis_lsn"
LSN_SECONDS = 60  # the cookie's life: replicas lag well under a second
# pauses (seconds) before each check of a replica's replay position, ~0.2 s in all
REPLAY_WAITS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.05)
_LSN = re.compile(r"[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")
REPLAYED = text("SELECT NOT pg_is_in_recovery() "
                "OR pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
# After a commit has returned its record has been written (synchronous_commit on, the default
# and Patroni's): the write position is past it, and a replica will receive that far. With
# synchronous_commit off a commit may be visible before it is written: the insert position.
WRITE_POSITION = text("SELECT CAST(CASE WHEN current_setting('synchronous_commit') = 'off' "
                      "THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_lsn() END AS text)")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def has_read_role(context: AppContext) -> bool:
    """True when reads that may lag have a database of their own (GIS_READ_DATABASE_URL)."""
    return context.read_session_factory is not context.session_factory


def lsn_value(value: str | None) -> str | None:
    """`value` when it is a WAL position (`16/B374D848`), else None."""
    return value if value and _LSN.fullmatch(value) else None


def _lsn_number(lsn: str) -> int:
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def newest_lsn(*values: str | None) -> str | None:
    """The furthest of the valid WAL positions given (None when there is none)."""
    valid = [lsn for lsn in map(lsn_value, values) if lsn]
    return max(valid, key=_lsn_number) if valid else None


def written_lsn(request: Request) -> str | None:
    """The WAL position of the caller's last write, as it sent it back (header, else cookie)."""
    return lsn_value(request.headers.get(LSN_HEADER)) or \
        lsn_value(request.cookies.get(LSN_COOKIE))


@contextmanager
def read_session(request: Request, at_least: str | None = None) -> Iterator[Session]:
    """A session of the read role for `request`: on the read database, once it has replayed
    the caller's last write (`written_lsn`) and `at_least` (say, what a feed's last poll
    saw), checked on the session's own connection; on the primary when it has not within
    ~0.2 s, or when there is no read database. While there is no primary at all (a fail-over
    under way) the replica answers anyway: a wall a moment behind beats no wall."""
    context = context_of(request)
    if not has_read_role(context):
        with context.session_factory() as session:
            yield session
        return
    wanted = newest_lsn(written_lsn(request), at_least)
    with context.read_session_factory() as replica:
        if wanted is None or _replayed(replica, wanted):
            yield replica
            return
        primary = _connected(context.session_factory)
        if primary is None:
            yield replica
            return
    with primary:
        yield primary


def _connected(factory: sessionmaker[Session]) -> Session | None:
    """A session of `factory` with its connection made, or None when the server cannot be
    reached now."""
    session = factory()
    try:
        session.connection()
    except (OperationalError, InterfaceError):
        session.close()
        return None
    return session


def _replayed(session: Session, lsn: str) -> bool:
    """True once the session's server has replayed the WAL up to `lsn` (a primary always
    has); the check begins the session's transaction, which keeps its connection."""
    for pause in REPLAY_WAITS:
        if pause:
            time.sleep(pause)
        if session.scalar(REPLAYED, {"lsn": lsn}):
            return True
    return False


def get_read_session(request: Request) -> Iterator[Session]:
    """One read-role session per request (see `read_session`)."""
    with read_session(request) as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def write_position(factory: sessionmaker[Session]) -> str | None:
    """The primary's WAL position past every commit that has returned (`WRITE_POSITION`);
    None when it cannot be read (no primary just now)."""
    try:
        with factory() as session:
            return str(session.scalar(WRITE_POSITION))
    except SQLAlchemyError as exc:
        logger.info("no WAL position for the answer: %s", str(exc).splitlines()[0])
        return None


def lsn_cookie(name: str, lsn: str, path: str = "/") -> str:
    """A Set-Cookie value keeping a WAL position for `LSN_SECONDS`."""
    return f"{name}={lsn}; Max-Age={LSN_SECONDS}; Path={path}; HttpOnly; SameSite=strict"


class WriteMark:
    """ASGI middleware: when the app has a read role, a successful write request's answer
    carries the primary's WAL position (`GIS-LSN` header, `gis_lsn` cookie), so the caller's
    next reads wait for a replica that has it, or go to the primary. No round trip without a
    read role, for reads, or for refused writes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        context = app_context(scope["app"])
        if not has_read_role(context):
            await self.app(scope, receive, send)
            return

        async def marking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 400:
                lsn = await run_in_threadpool(write_position, context.session_factory)
                if lsn:
                    headers = MutableHeaders(scope=message)
                    headers.append(LSN_HEADER, lsn)
                    headers.append("set-cookie", lsn_cookie(LSN_COOKIE, lsn))
            await send(message)

        await self.app(scope, receive, marking_send)
