"""The embedded PostGIS: a private PostgreSQL cluster under the service home (`.gis/`).

Layout of the home folder:
    pgdata/        the cluster (owned by the `postgres` user when we run as root)
    run/           the Unix socket directory
    port           the loopback TCP port the cluster listens on
    postgres.log   the server log
(pgdata/, run/ and the log move to /var/tmp/gis-service-<hash>/ when we are root and the
`postgres` user cannot reach the home, e.g. a clone under /root.)

PostgreSQL refuses to run as root, so when the launcher runs as root every server command
(initdb, pg_ctl) runs as the `postgres` system user; the home folder is handed to that user.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

DATABASE_NAME = "gis"
SUPERUSER = "postgres"
SERVER_USER = "postgres"  # the system account that runs the server when we are root
# The planner's price of a random page against a sequential one (PostgreSQL's default, 4, is
# for spinning disks). A county's incidents live in memory or on SSD, where an index probe
# costs little more than a page read in order: at 4 the planner read every incident to join
# a month's few thousand closures (the league's 420 ms; 22 ms at 1.1, the usual SSD value).
RANDOM_PAGE_COST = 1.1


class EmbeddedDatabaseError(RuntimeError):
    """The embedded cluster cannot be set up or started; the message says what to do."""


@dataclass(frozen=True)
class EmbeddedCluster:
    """A private PostgreSQL + PostGIS cluster under `home`."""

    home: Path
    # Throw-away clusters (tests, benchmarks) skip durability for speed.
    durable: bool = True

    def __post_init__(self) -> None:
        # Absolute, so that the server user and every process agree on where it is.
        object.__setattr__(self, "home", self.home.resolve())

    @cached_property
    def server_dir(self) -> Path:
        """Where the server's own files live: the home, or — when we are root and the
        `postgres` user cannot reach the home (a clone under /root, say) — a folder of its
        own under /var/tmp named after the home."""
        # the home itself is handed to that user; the way to it must be open
        if os.geteuid() != 0 or _reachable_by_server_user(self.home.parent):
            return self.home
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"gis-service-{digest}"

    @property
    def data_dir(self) -> Path:
        return self.server_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.server_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.server_dir / "postgres.log"

    @property
    def port_file(self) -> Path:
        return self.home / "port"

    def port(self) -> int:
        """The cluster's TCP port (chosen when the cluster is first started)."""
        if not self.port_file.exists():
            raise EmbeddedDatabaseError(
                f"no embedded cluster at {self.home}: run `gis-service db start`")
        return int(self.port_file.read_text().strip())

    def url(self) -> str:
        """SQLAlchemy URL over the Unix socket (faster than TCP for local work)."""
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{DATABASE_NAME}"
            f"?host={self.socket_dir}&port={self.port()}"
        )

    def tcp_url(self) -> str:
        """SQLAlchemy URL over loopback TCP (for tools that cannot use a socket)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port()}/{DATABASE_NAME}"

    def is_running(self) -> bool:
        """True when pg_ctl reports a server running on our data directory."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = self._run([pg_program("pg_ctl"), "status", "-D", str(self.data_dir)], check=False)
        return result.returncode == 0

    def start(self) -> None:
        """Initialise the cluster if needed, start it and create the database; idempotent."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over_to_server_user()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        if self.is_running():
            return
        port = _free_port(self._saved_port())
        self.port_file.write_text(f"{port}\n")
        options = (
            f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c shared_buffers=256MB -c max_connections=100 -c work_mem=32MB "
            f"-c random_page_cost={RANDOM_PAGE_COST}"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        result = self._run(
            [pg_program("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir),
             "-l", str(self.log_file), "-o", options],
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise EmbeddedDatabaseError(f"PostgreSQL did not start:\n{result.stderr}\n{tail}")
        self._create_database()

    def stop(self) -> None:
        """Stop the server (fast shutdown); nothing happens when it is not running."""
        if self.is_running():
            self._run([pg_program("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])

    def status(self) -> str:
        """One line saying whether the cluster runs, where, and on which port."""
        if not (self.data_dir / "PG_VERSION").exists():
            return f"not initialised ({self.home})"
        state = "running" if self.is_running() else "stopped"
        port = self.port() if self.port_file.exists() else "?"
        return f"{state}: {self.data_dir} port {port} socket {self.socket_dir}"

    def _saved_port(self) -> int | None:
        return int(self.port_file.read_text()) if self.port_file.exists() else None

    def _initdb(self) -> None:
        args = [pg_program("initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8",
                "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=trust"]
        result = self._run(args, check=False)
        if result.returncode != 0:
            raise EmbeddedDatabaseError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        # Only loopback and the socket are open (listen_addresses), so trust is local-only.

    def _create_database(self) -> None:
        psql = [pg_program("psql"), "-h", str(self.socket_dir), "-p", str(self.port()),
                "-U", SUPERUSER, "-d", "postgres", "-tAc"]
        exists = self._run([*psql, f"SELECT 1 FROM pg_database WHERE datname='{DATABASE_NAME}'"])
        if exists.stdout.strip() != "1":
            self._run([*psql, f"CREATE DATABASE {DATABASE_NAME}"])

    def _hand_over_to_server_user(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise EmbeddedDatabaseError(
                "running as root needs the `postgres` system user; install Debian's "
                "postgresql package (make setup does)"
            ) from exc
        # initdb creates pgdata as that user; it also writes the log and the socket here.
        for path in (self.server_dir, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if not _reachable_by_server_user(self.server_dir):
            raise EmbeddedDatabaseError(
                f"the `postgres` user cannot write to {self.server_dir}; set GIS_SERVICE_HOME "
                "to a folder it can reach (e.g. /var/tmp/gis)")

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        user = SERVER_USER if os.geteuid() == 0 else None
        result = subprocess.run(args, capture_output=True, text=True, user=user,
                                cwd="/", check=False)
        if check and result.returncode != 0:
            raise EmbeddedDatabaseError(f"{' '.join(args[:2])} failed: {result.stderr.strip()}")
        return result


def _reachable_by_server_user(path: Path) -> bool:
    """True when the `postgres` user can enter every folder on the way to `path`."""
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        return False
    probe = path if path.exists() else path.parent
    result = subprocess.run(["test", "-x", str(probe)], user=entry.pw_uid, cwd="/",
                            capture_output=True, check=False)
    return result.returncode == 0


def pg_program(name: str) -> str:
    """Path of a PostgreSQL server program: the newest Debian version with PostGIS, or PATH."""
    for version_dir in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        candidate = version_dir / "bin" / name
        postgis = Path(f"/usr/share/postgresql/{version_dir.name}/extension/postgis.control")
        if candidate.exists() and postgis.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise EmbeddedDatabaseError(
        f"PostgreSQL's `{name}` was not found. Install PostgreSQL with PostGIS, e.g. on Debian: "
        "apt-get install postgresql postgresql-15-postgis-3 (make setup does this)"
    )


def _free_port(preferred: int | None) -> int:
    """The preferred port when it is free, else one the kernel picks on loopback."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise EmbeddedDatabaseError("no free loopback port")


@contextmanager
def temporary_cluster(prefix: str, durable: bool = False) -> Iterator[str]:
    """A private cluster in a new folder under /tmp (the `postgres` user can reach it),
    yielding its URL; stopped and removed afterwards. For tests and benchmarks."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = EmbeddedCluster(home, durable=durable)
    try:
        cluster.start()
        yield cluster.url()
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)
