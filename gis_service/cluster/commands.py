"""`gis-service cluster …`: the always-on cluster from the command line (README "Production:
always on"). Exit 2 when something cannot be started or asked, 3 when `status` finds no
leader."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer

from gis_service.cluster import backups, control, layout
from gis_service.config import Settings

cluster_app = typer.Typer(help="The always-on cluster (Patroni + etcd + HAProxy + pgBackRest "
                               "from Debian): up, down, status, url, restore.",
                          no_args_is_help=True)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _layout() -> layout.Layout:
    found = layout.load(Settings().home)
    if found is None:
        raise _fail("no cluster here: run `gis-service cluster up` (or `make cluster`)", 2)
    return found


@cluster_app.command("up")
def cluster_up() -> None:
    """Start (the first time: create) three etcd members, three PostgreSQL + PostGIS members
    under Patroni with one synchronous standby, HAProxy's write and read ports; migrate; take
    a full backup when there is none. Idempotent."""
    try:
        control.up(Settings().home, typer.echo)
    except (control.ClusterError, backups.BackupError) as exc:
        raise _fail(str(exc), 2) from exc


@cluster_app.command("down")
def cluster_down(
    purge: Annotated[bool, typer.Option(
        "--purge", help="also delete the cluster's data and backups")] = False,
) -> None:
    """Stop every daemon of the cluster (and a restored server)."""
    control.down(Settings().home, typer.echo, purge=purge)


@cluster_app.command("status")
def cluster_status(
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> None:
    """The leader, the replicas (which one is synchronous), their lag, the last archived WAL
    (exit 3 when there is no leader)."""
    try:
        state = control.status(Settings().home)
    except control.ClusterError as exc:
        raise _fail(str(exc), 2) from exc
    if as_json:
        typer.echo(json.dumps({"members": [asdict(m) for m in state.members],
                               "write_url": state.write_url, "read_url": state.read_url,
                               "last_archived_wal": state.last_archived_wal,
                               "last_archived_time": state.last_archived_time}, indent=2))
    else:
        for m in state.members:
            role = "leader" if m.role == "leader" else ("sync replica" if m.sync else "replica")
            lag = "" if m.lag is None else f"  lag {m.lag:,} bytes"
            typer.echo(f"{m.name:5} {role:13} {m.state:10} {m.host}:{m.port}  "
                       f"pid {m.pid or '-'}  timeline {m.timeline or '-'}{lag}")
        typer.echo(f"last archived WAL: {state.last_archived_wal or '-'} "
                   f"at {state.last_archived_time or '-'}")
        typer.echo(f"write: {state.write_url}\nread:  {state.read_url}")
    if state.leader is None:
        raise typer.Exit(3)


@cluster_app.command("url")
def cluster_url(
    read: Annotated[bool, typer.Option("--read", help="the read URL (replicas)")] = False,
) -> None:
    """Print the write URL (DATABASE_URL), or with --read the read URL
    (GIS_READ_DATABASE_URL)."""
    where = _layout()
    typer.echo(where.read_url() if read else where.write_url())


@cluster_app.command("backup")
def cluster_backup(
    kind: Annotated[str, typer.Option(help="full, diff or incr")] = "full",
) -> None:
    """Take a pgBackRest backup of the leader now."""
    if kind not in ("full", "diff", "incr"):
        raise _fail(f"unknown backup kind {kind!r}: full, diff or incr", 2)
    try:
        backups.backup(_layout(), kind)
    except backups.BackupError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"{kind} backup taken")


@cluster_app.command("restore")
def cluster_restore(
    to: Annotated[str, typer.Option(
        "--to", help="the moment, ISO 8601 with a time zone, e.g. 2026-12-07T10:15:00+08:00")],
    port: Annotated[int, typer.Option(help="the restored server's port")] = 5499,
) -> None:
    """Restore the database as it was at a moment onto a new server beside the cluster (the
    cluster keeps running) and print its URL; `cluster down` stops it."""
    try:
        moment = datetime.fromisoformat(to)
    except ValueError as exc:
        raise _fail(f"--to {to!r}: not an ISO 8601 time", 2) from exc
    try:
        url = backups.restore(_layout(), moment, port)
    except backups.BackupError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(url)
