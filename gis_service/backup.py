"""`gis-service db dump` / `db restore`: the whole database through PostgreSQL's own tools
(pg_dump's custom format), so grids with every version, incidents and their hash-chained
history come back exactly as they were.

A restore is one transaction (`--single-transaction --exit-on-error`): a failing archive
leaves the database as it was. It refuses a database that already holds a town or
incidents unless told to replace them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gis_service.embedded_pg import pg_program
from gis_service.errors import ConflictError
from gis_service.imports.readers import UnreadableInputError

HOLDS_DATA = text(
    "SELECT to_regclass('public.grid_version') IS NOT NULL AND ("
    "EXISTS (SELECT 1 FROM grid_version) OR EXISTS (SELECT 1 FROM incident))")


def libpq_uri(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (socket `host=` and `port=` query keys kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dump(url: str, path: Path) -> None:
    """Write the database to `path` (pg_dump custom format)."""
    result = subprocess.run([pg_program("pg_dump"), "--format=custom", "--no-owner",
                             f"--file={path}", f"--dbname={libpq_uri(url)}"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        path.unlink(missing_ok=True)
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")


def restore(url: str, path: Path, *, replace: bool = False) -> None:
    """Load a dump made by `dump` into the database, in one transaction."""
    if not path.is_file():
        raise UnreadableInputError(f"{path}: no such file")
    listing = subprocess.run([pg_program("pg_restore"), "--list", str(path)],
                             capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise UnreadableInputError(f"{path}: not a dump made by `gis-service db dump` "
                                   f"({listing.stderr.strip()})")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            holds_data = bool(connection.scalar(HOLDS_DATA))
    finally:
        engine.dispose()
    if holds_data and not replace:
        raise ConflictError("the database holds grids or incidents already: restore into an "
                            "empty database, or pass --replace to overwrite them")
    result = subprocess.run([pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner",
                             "--single-transaction", "--exit-on-error",
                             f"--dbname={libpq_uri(url)}", str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pg_restore failed, nothing changed: {result.stderr.strip()}")
