"""A primary and a hot-standby replica of it (pg_basebackup -R, streaming), both real
PostgreSQL, for the tests of the two connection roles: started once for this folder, the
test town and an admin loaded through the primary, stopped at the end whatever happens."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from gis_service import migrations
from gis_service.auth import service as auth_service
from gis_service.config import Settings
from gis_service.embedded_pg import SERVER_USER, pg_program, temporary_cluster
from gis_service.imports.service import run_import
from gis_service.main import create_app
from tests.town import write_town

TOWN_KINDS = ("grids", "districts", "zones", "projects", "stations", "departments", "workers",
              "responsibilities", "zone_rules")


@dataclass(frozen=True)
class Pair:
    """The two servers: their URLs, and an autocommit engine on each for the tests' own SQL."""

    primary_url: str
    replica_url: str
    primary: Engine
    replica: Engine
    token: str  # an admin's bearer token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def primary_position(self) -> str:
        """The primary's WAL position, past every commit that has returned."""
        with self.primary.connect() as primary:
            return str(primary.scalar(text("SELECT CAST(pg_current_wal_lsn() AS text)")))

    def caught_up(self, timeout: float = 10.0) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        lsn = self.primary_position()
        deadline = time.monotonic() + timeout
        with self.replica.connect() as replica:
            while not replica.scalar(text("SELECT pg_last_wal_replay_lsn() >= "
                                          "CAST(:lsn AS pg_lsn)"), {"lsn": lsn}):
                assert time.monotonic() < deadline, "the replica did not catch up"
                time.sleep(0.01)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica held back: it keeps receiving WAL but replays none until the end."""
        with self.replica.connect() as replica:
            replica.execute(text("SELECT pg_wal_replay_pause()"))
            while replica.scalar(text("SELECT pg_get_wal_replay_pause_state()")) != "paused":
                time.sleep(0.01)
            try:
                yield
            finally:
                replica.execute(text("SELECT pg_wal_replay_resume()"))


def _as_server_user(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a server program (as the `postgres` user when we are root, as embedded_pg does)."""
    user = SERVER_USER if os.geteuid() == 0 else None
    result = subprocess.run(args, capture_output=True, text=True, user=user, cwd="/",
                            check=False)
    assert result.returncode == 0, f"{' '.join(args[:2])}: {result.stderr}"
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standby_of(primary_url: str) -> Iterator[str]:
    """A hot standby of the primary at `primary_url`, on its own port and socket folder,
    streaming from it; yields its URL, stopped and removed afterwards."""
    url = make_url(primary_url)
    home = Path(tempfile.mkdtemp(prefix="gis-replica-"))
    data, sockets, log = home / "pgdata", home / "run", home / "postgres.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        for path in (home, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    try:
        _as_server_user([pg_program("pg_basebackup"), "-h", str(url.query["host"]),
                         "-p", str(url.query["port"]), "-U", "postgres", "-D", str(data),
                         "-R", "-X", "stream", "-c", "fast"])
        _as_server_user([pg_program("pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                         "-l", str(log), "-o",
                         f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off"])
        yield f"postgresql+psycopg://postgres@/{url.database}?host={sockets}&port={port}"
    finally:
        if (data / "postmaster.pid").exists():
            _as_server_user([pg_program("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)])
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="package")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """The primary (migrated, the test town and an admin in it) and its replica."""
    with temporary_cluster("gis-primary-") as primary_url:
        engine = migrations.migrated_engine(primary_url)
        try:
            # commits wait for their WAL to be written, as on a durable server (the throw-away
            # cluster is started with synchronous_commit off)
            with engine.connect() as connection:
                connection.execute(text("ALTER DATABASE gis SET synchronous_commit = on"))
                connection.commit()
            engine.dispose()
            town = write_town(tmp_path_factory.mktemp("town"))
            with Session(engine) as session:
                for kind in TOWN_KINDS:
                    assert run_import(session, kind, town[kind]).accepted
                auth_service.add_account(session, username="admin", role="admin",
                                         password="s3cret-pw")
                token = auth_service.issue_token(session, username="admin")
                session.commit()
        finally:
            engine.dispose()
        with standby_of(primary_url) as replica_url:
            primary = create_engine(primary_url, isolation_level="AUTOCOMMIT")
            replica = create_engine(replica_url, isolation_level="AUTOCOMMIT")
            try:
                made = Pair(primary_url, replica_url, primary, replica, token)
                made.caught_up()
                yield made
            finally:
                primary.dispose()
                replica.dispose()


def settings(database_url: str, read_database_url: str = "") -> Settings:
    """The service's settings for these tests: no background work but the intake's writer."""
    return Settings(database_url=database_url, read_database_url=read_database_url,
                    locator_refresh_seconds=0, escalation_interval_seconds=0,
                    webhook_poll_seconds=0, tile_fold_seconds=0, gc_freeze=False)


@pytest.fixture()
def client(pair: Pair) -> Iterator[TestClient]:
    """The service with both roles: writes to the primary, lagging reads to the replica."""
    with TestClient(create_app(settings(pair.primary_url, pair.replica_url))) as test_client:
        yield test_client
