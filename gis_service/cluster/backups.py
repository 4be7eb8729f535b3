"""pgBackRest: WAL archived from whichever member leads (each member's archive_command), a full
backup, and a restore to a moment onto a fresh server beside the cluster (never over it), so
an operator can look at the restored data and copy back what was lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from gis_service.cluster import daemons, files
from gis_service.cluster.layout import DATABASE, SCOPE, Layout, owner_ids
from gis_service.embedded_pg import pg_program


class BackupError(RuntimeError):
    """pgBackRest refused; the message carries its own words."""


def _pgbackrest(where: Layout, *args: str, config: Path | None = None,
                timeout: float = 600) -> str:
    ids = owner_ids()  # as postgres: files a root-run command left in the repository would
    # break the next archive-push
    command = ["/usr/bin/pgbackrest", f"--config={config or files.pgbackrest_file(where)}",
               f"--stanza={SCOPE}", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env=daemons.CLEAN_ENV, cwd=where.root, timeout=timeout,
                            user=ids[0] if ids else None)
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()
        raise BackupError(f"pgbackrest {args[-1]} failed: {said}")
    return result.stdout


def info(where: Layout) -> dict[str, object]:
    """pgBackRest's view of the stanza (`info --output=json`)."""
    stanzas = json.loads(_pgbackrest(where, "--output=json", "info"))
    return stanzas[0] if stanzas else {}


def ensure_backup(where: Layout) -> None:
    """Stanza created, archiving checked (a WAL switch that must reach the repository), and a
    full backup when there is none yet (a restore starts from one)."""
    _pgbackrest(where, "stanza-create")
    _pgbackrest(where, "check")
    if not info(where).get("backup"):
        _pgbackrest(where, "--type=full", "backup", timeout=3600)


def backup(where: Layout, kind: str = "full") -> None:
    _pgbackrest(where, f"--type={kind}", "backup", timeout=3600)


def archive_now(where: Layout) -> None:
    """Switch to a new WAL segment and wait until the finished one is archived: everything
    committed so far can then be restored."""
    _pgbackrest(where, "check")


def restore_dir(where: Layout) -> Path:
    return where.root / "restore"


def restore(where: Layout, moment: datetime, port: int) -> str:
    """Restore the database as it was at `moment` onto a new server on `port` (the cluster
    keeps running), promote it there, and return its URL. An earlier restored server is
    stopped and replaced."""
    if moment.tzinfo is None:
        raise BackupError("the moment needs a time zone, e.g. 2026-12-07T10:15:00+08:00")
    stop_restored(where)
    home = restore_dir(where)
    shutil.rmtree(home, ignore_errors=True)
    data, sockets = home / "data", home / "run"
    for path in (home, sockets):
        path.mkdir(parents=True)
    ids = owner_ids()
    if ids:
        for path in (home, sockets):
            os.chown(path, *ids)
    target = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
    first = where.members[0]
    _pgbackrest(where, f"--pg1-path={data}", "--type=time", f"--target={target}",
                "--target-action=promote", "--archive-mode=off", "restore",
                config=files.pgbackrest_file(where, first))
    # the restored settings are the leader's: its files' paths, its synchronous standby (who
    # will never connect, so every write would wait), its archiving — replaced here
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
               f"-c hba_file={data}/pg_hba.conf -c ident_file={data}/pg_ident.conf "
               "-c synchronous_standby_names='' -c archive_mode=off")
    (home / "port").write_text(f"{port}\n")
    result = subprocess.run(
        [pg_program("pg_ctl"), "start", "-w", "-t", "300", "-D", str(data), "-l",
         str(home / "postgres.log"), "-o", options], capture_output=True, text=True,
        check=False, cwd="/", user=ids[0] if ids else None)
    if result.returncode != 0:
        raise BackupError(f"the restored server did not start: {result.stderr.strip()} "
                          f"(log: {home / 'postgres.log'})")
    url = f"postgresql://postgres@/{DATABASE}?host={sockets}&port={port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # until recovery reached the moment and promoted
        with psycopg.connect(url, autocommit=True) as connection:
            row = connection.execute("SELECT pg_is_in_recovery()").fetchone()
            if row and not row[0]:
                return url.replace("postgresql://", "postgresql+psycopg://")
        time.sleep(0.5)
    raise BackupError(f"the restored server is still recovering (log: {home / 'postgres.log'})")


def stop_restored(where: Layout) -> None:
    """Stop the server a restore started, if any."""
    data = restore_dir(where) / "data"
    pid_path = data / "postmaster.pid"
    if not pid_path.exists():
        return
    ids = owner_ids()
    subprocess.run([pg_program("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)],
                   capture_output=True, check=False, cwd="/", user=ids[0] if ids else None)
