"""The project's SQL files (`<package>/sql/*.sql`), one convention for all of them.

Parameters are named `:name` (SQLAlchemy's `text()` style; a cast is `CAST(:name AS type)`,
since `:name::type` is not read as a parameter). Fixed fragments such as a column list are
`{name}`, filled in when the file is loaded. Every file is loaded once, at import, by `load`;
the intake's hot path runs its statements on the driver connection, where psycopg prepares
them once per connection, through `for_driver` and `driver`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg import Connection
from sqlalchemy import TextClause, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.orm import Session

_DIALECT = psycopg.dialect()


def load(folder: Path, name: str, **fragments: str) -> TextClause:
    """The statement in `folder/name.sql`, its `{fragments}` filled in."""
    sql = (folder / f"{name}.sql").read_text(encoding="utf-8")
    return text(sql.format(**fragments) if fragments else sql)


def for_driver(statement: TextClause) -> str:
    """The statement in psycopg's own placeholder style (`%(name)s`)."""
    return str(statement.compile(dialect=_DIALECT))


def driver(session: Session) -> Connection[Any]:
    """The session's psycopg connection, in the session's transaction: statements run on it
    skip SQLAlchemy's per-statement work (~100-300 µs of Python each, measured), and psycopg
    prepares them once per connection (`prepare=True`)."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, Connection)
    return connection
