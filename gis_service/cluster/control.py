"""`gis-service cluster up|down|status|url`: the cluster's life, step by step, each step
waiting until what it started answers (etcd's /health, Patroni's /cluster, a query through
HAProxy), so `up` returns only when the service can use the cluster."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import psycopg

from gis_service import migrations
from gis_service.cluster import backups, daemons, files, layout
from gis_service.cluster.layout import Layout, Member

Progress = Callable[[str], None]


class ClusterError(RuntimeError):
    """The cluster cannot be brought up or asked; the message says what failed and where its
    log is."""


@dataclass(frozen=True)
class MemberState:
    """A member as Patroni reports it (role: leader or replica; sync: the synchronous one)."""

    name: str
    role: str
    state: str
    host: str
    port: int
    pid: int | None  # its PostgreSQL server process
    lag: int | None  # bytes behind the leader (None for the leader, or when unknown)
    sync: bool
    timeline: int | None


@dataclass(frozen=True)
class ClusterState:
    members: tuple[MemberState, ...]
    write_url: str
    read_url: str
    last_archived_wal: str | None
    last_archived_time: str | None

    @property
    def leader(self) -> MemberState | None:
        return next((m for m in self.members if m.role == "leader"), None)


def _wait(what: str, ready: Callable[[], bool], timeout: float, log: Path | None = None
          ) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    raise ClusterError(f"{what}: not ready after {timeout:.0f} s (log: {log}){tail}")


def _etcd_healthy(member: Member) -> bool:
    try:
        answer = httpx.get(f"http://{member.host}:{member.etcd_client_port}/health", timeout=1)
        return answer.status_code == 200 and answer.json().get("health") == "true"
    except (httpx.HTTPError, ValueError):
        return False


def patroni_members(where: Layout) -> list[dict[str, object]] | None:
    """Patroni's view of the cluster (GET /cluster), from the first member that answers."""
    for member in where.members:
        try:
            answer = httpx.get(f"http://{member.host}:{member.rest_port}/cluster", timeout=1.5)
            if answer.status_code == 200:
                members: list[dict[str, object]] = answer.json().get("members", [])
                return members
        except (httpx.HTTPError, ValueError):
            continue
    return None


def _replicated(where: Layout) -> bool:
    """A leader that runs and a synchronous standby that streams: strict synchronous mode
    holds every commit until there is one, so nothing may be written before."""
    members = patroni_members(where) or []
    roles = {str(m.get("role")) for m in members if m.get("state") in ("running", "streaming")}
    return "leader" in roles and "sync_standby" in roles


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"),
                             connect_timeout=2, autocommit=True) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _prepare(where: Layout) -> None:
    for path in [where.root, where.run_dir, where.backup_dir, *(where.backup_dir / d for d in
                 ("repo", "lock", "log", "spool")), where.root / "etcd",
                 *(where.member_dir(m) for m in where.members),
                 *(where.socket_dir(m) for m in where.members)]:
        path.mkdir(parents=True, exist_ok=True)
    where.save()
    files.write_all(where)
    ids = layout.owner_ids()
    if ids is None:
        return
    # the daemons run as postgres: hand it the folder (data folders PostgreSQL made are its)
    for path in [where.root, *where.root.rglob("*")]:
        with contextlib.suppress(FileNotFoundError):
            os.chown(path, *ids, follow_symlinks=False)
    for member in where.members:
        data = where.data_dir(member)
        if data.exists():
            data.chmod(0o700)


def up(home: Path, progress: Progress, *, hosts: list[tuple[str, str | None]] | None = None,
       client_net: str = "127.0.0.1/32", timeout: float = 180.0) -> Layout:
    """Bring the cluster up (the first time: create it, its members on loopback or at the
    given (address, network namespace)s); idempotent."""
    where = layout.load(home) or layout.new(home, hosts=hosts, client_net=client_net)
    for program in ("/usr/bin/etcd", "/usr/bin/patroni", "/usr/sbin/haproxy",
                    "/usr/bin/pgbackrest"):
        if not Path(program).exists():
            raise ClusterError(f"{program} is missing: `make setup` installs Debian's etcd-server, "
                               "patroni, haproxy and pgbackrest")
    _prepare(where)
    started = time.monotonic()

    def step(text: str) -> None:
        progress(f"[{time.monotonic() - started:5.1f} s] {text}")

    step("etcd: starting three members")
    for member in where.members:
        daemons.start(where, f"etcd-{member.name}", files.etcd_command(where, member), member)
    for member in where.members:
        _wait(f"etcd {member.name}", partial(_etcd_healthy, member), 60,
              where.run_dir / f"etcd-{member.name}.log")
    step("Patroni: starting three PostgreSQL members (the first one up becomes the leader)")
    for member in where.members:
        daemons.start(where, f"patroni-{member.name}",
                      ["/usr/bin/patroni", str(files.patroni_file(where, member))], member)
    _wait("a leader and a synchronous standby", lambda: _replicated(where), timeout,
          where.run_dir / f"patroni-{where.members[0].name}.log")
    step("HAProxy: the write and read ports")
    check = subprocess.run(["/usr/sbin/haproxy", "-c", "-q", "-f", str(files.haproxy_file(where))],
                           capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise ClusterError(f"haproxy.cfg does not check: {check.stdout}{check.stderr}")
    daemons.start(where, "haproxy", ["/usr/sbin/haproxy", "-db", "-f",
                                     str(files.haproxy_file(where))])
    _wait("the write port", lambda: _answers(where.write_url()), 30,
          where.run_dir / "haproxy.log")
    _wait("the read port", lambda: _answers(where.read_url()), 30, where.run_dir / "haproxy.log")
    step("migrations through the write port")
    migrations.migrated_engine(where.write_url()).dispose()
    step("pgBackRest: stanza, archive check, a full backup when there is none")
    backups.ensure_backup(where)
    step(f"up: write {where.write_url()}")
    step(f"    read  {where.read_url()}")
    return where


def down(home: Path, progress: Progress, *, purge: bool = False) -> None:
    """Stop everything (the replicas' Patroni before the leader's, so no failover starts);
    `purge` also deletes the cluster's data and backups."""
    where = layout.load(home)
    if where is None:
        progress("no cluster here")
        return
    daemons.stop(where, "haproxy")
    members = patroni_members(where) or []
    leaders = {str(m.get("name")) for m in members if m.get("role") == "leader"}
    for member in sorted(where.members, key=lambda m: m.name in leaders):
        daemons.stop(where, f"patroni-{member.name}", timeout=60)
        daemons.stop_postmaster(where, member)
    for member in where.members:
        daemons.stop(where, f"etcd-{member.name}")
    backups.stop_restored(where)
    progress("stopped")
    if purge:
        shutil.rmtree(where.root, ignore_errors=True)
        progress(f"removed {where.root}")


def status(home: Path) -> ClusterState:
    """The members as Patroni sees them, and the leader's last archived WAL."""
    where = layout.load(home)
    if where is None:
        raise ClusterError("no cluster here: run `gis-service cluster up`")
    reported = patroni_members(where)
    if reported is None:
        raise ClusterError("no Patroni answers: is the cluster up? (`gis-service cluster up`)")
    members = []
    for raw in reported:
        name = str(raw.get("name"))
        member = where.member(name)
        lag, timeline = raw.get("lag"), raw.get("timeline")
        members.append(MemberState(
            name=name, role="leader" if raw.get("role") == "leader" else "replica",
            state=str(raw.get("state")), host=member.host, port=member.pg_port,
            pid=daemons.postmaster_pid(where, member),
            lag=lag if isinstance(lag, int) else None, sync=raw.get("role") == "sync_standby",
            timeline=timeline if isinstance(timeline, int) else None))
    archived: tuple[str | None, str | None] = (None, None)
    try:
        with psycopg.connect(where.write_url().replace("postgresql+psycopg", "postgresql"),
                             autocommit=True) as connection:
            row = connection.execute("SELECT last_archived_wal, last_archived_time::text "
                                     "FROM pg_stat_archiver").fetchone()
            if row:
                archived = (row[0], row[1])
    except psycopg.Error:
        pass  # no leader at this moment: the members still say so
    return ClusterState(members=tuple(members), write_url=where.write_url(),
                        read_url=where.read_url(), last_archived_wal=archived[0],
                        last_archived_time=archived[1])
