"""The `gis-service` command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from gis_service import migrations
from gis_service.auth import accounts
from gis_service.auth import service as auth_service
from gis_service.auth.schemas import AccountCreate, AccountUpdate
from gis_service.auth.service import Principal
from gis_service.cluster.commands import cluster_app
from gis_service.config import Settings
from gis_service.database import make_engine, make_session_factory
from gis_service.embedded_pg import EmbeddedCluster, EmbeddedDatabaseError
from gis_service.errors import DomainError
from gis_service.events import peers, subscriptions
from gis_service.events.endpoints import allowed_hosts
from gis_service.events.schemas import PeerCreate, SubscriptionChange, SubscriptionCreate
from gis_service.imports.readers import UnreadableInputError
from gis_service.imports.service import IMPORTERS, run_import
from grid_layers.crs import UnknownCRSError
from grid_layers.repair import DEFAULT_TOLERANCE_M

app = typer.Typer(help="Grid management and dispatch GIS service.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Manage the embedded PostGIS under .gis/ (or $GIS_SERVICE_HOME).",
                     no_args_is_help=True)
user_app = typer.Typer(help="Accounts: add, list, passwd, disable, enable, remove.",
                       no_args_is_help=True)
audit_app = typer.Typer(help="Check the incident history.", no_args_is_help=True)
subscriptions_app = typer.Typer(help="Event subscriptions (webhooks): add, list, enable, "
                                     "disable, remove, deliveries, redeliver.",
                                no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(user_app, name="user")
app.add_typer(subscriptions_app, name="subscriptions")
peers_app = typer.Typer(help="Peer platforms (the county's above, towns' below) whose events "
                             "come in: add, list, remove.", no_args_is_help=True)
app.add_typer(peers_app, name="peers")
app.add_typer(cluster_app, name="cluster")


Body = TypeVar("Body", bound=BaseModel)


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _refusals() -> Iterator[None]:
    """A use case's refusal (DomainError) said as the command's error, exit code 1."""
    try:
        yield
    except DomainError as exc:
        raise _fail(exc.detail, 1) from exc


def _cluster(settings: Settings) -> EmbeddedCluster:
    return EmbeddedCluster(settings.home)


@contextmanager
def _session() -> Iterator[Session]:
    settings = Settings()
    try:
        engine = make_engine(settings)
    except EmbeddedDatabaseError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded cluster; idempotent."""
    settings = Settings()
    if settings.database_url:
        typer.echo("DATABASE_URL is set: using that external PostGIS, nothing to start")
        return
    try:
        cluster = _cluster(settings)
        cluster.start()
    except EmbeddedDatabaseError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(cluster.status())


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    try:
        _cluster(Settings()).stop()
    except EmbeddedDatabaseError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo("stopped")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded cluster runs (exit 3 when it does not)."""
    cluster = _cluster(Settings())
    typer.echo(cluster.status())
    if not cluster.is_running():
        raise typer.Exit(3)


@db_app.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL of the database in use."""
    settings = Settings()
    try:
        typer.echo(settings.database_url or _cluster(settings).url())
    except EmbeddedDatabaseError as exc:
        raise _fail(str(exc), 2) from exc


@db_app.command("dump")
def db_dump(path: Annotated[Path, typer.Argument(help="the file to write")]) -> None:
    """Write the whole database to a file (pg_dump's custom format)."""
    from gis_service.backup import dump

    try:
        dump(_database_url(), path)
    except (EmbeddedDatabaseError, RuntimeError) as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"dumped to {path} ({path.stat().st_size:,} bytes)")


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="a file written by `gis-service db dump`")],
    replace: Annotated[bool, typer.Option(
        "--replace", help="overwrite a database that holds grids or incidents")] = False,
) -> None:
    """Load a dump, in one transaction (exit 1: the database holds data; 2: bad file)."""
    from gis_service.backup import restore

    try:
        restore(_database_url(), path, replace=replace)
    except UnreadableInputError as exc:
        raise _fail(str(exc), 2) from exc
    except DomainError as exc:
        raise _fail(str(exc), 1) from exc
    except (EmbeddedDatabaseError, RuntimeError) as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo(f"restored {path}")


def _database_url() -> str:
    settings = Settings()
    return settings.database_url or _cluster(settings).url()


@app.command()
def migrate() -> None:
    """Apply the database migrations (Alembic)."""
    with _session() as session:
        migrations.upgrade(session.connection())
        session.commit()
    typer.echo("database is up to date")


@app.command("import")
def import_file(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(IMPORTERS)}")],
    path: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile… or CSV")],
    crs: Annotated[str | None, typer.Option(help="wgs84, cgcs2000, gcj02 or bd09")] = None,
    check: Annotated[bool, typer.Option("--check", help="validate only")] = False,
    repair: Annotated[bool, typer.Option(
        "--repair", help="grids: first repair gaps, overlaps and slivers within the tolerance, "
                         "listing each repair")] = False,
    tolerance: Annotated[float | None, typer.Option(
        help=f"--repair: how far a vertex may move, metres (default {DEFAULT_TOLERANCE_M})")]
        = None,
) -> None:
    """Import a file. Exit 0 = imported (or valid), 1 = rejected, 2 = unreadable input."""
    if tolerance is not None and not repair:
        raise _fail("--tolerance goes with --repair", 2)
    with _session() as session:
        try:
            report = run_import(session, kind, path, crs=crs, check_only=check,
                                progress=sys.stderr.isatty(),
                                min_confidence=Settings().geocode_min_confidence,
                                service_area_names=Settings().service_area_names,
                                repair=repair, tolerance_m=tolerance)
        except (UnreadableInputError, UnknownCRSError) as exc:
            raise _fail(str(exc), 2) from exc
        for line in report.lines():
            typer.echo(line)
        if not report.accepted:
            raise typer.Exit(1)
        if not check:
            session.commit()


@app.command("load-demo")
def load_demo(
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="load only into a database that holds no other town")] = False,
) -> None:
    """Load the demo town (idempotent: a re-run completes an interrupted load)."""
    from gis_service.demo import demo_town_loaded, load_demo_town

    with _session() as session:
        if if_empty and demo_town_loaded(session) is None:
            typer.echo("the database holds another town: the demo town is not loaded")
            return
        try:
            for line in load_demo_town(session, progress=sys.stderr.isatty(),
                                       min_confidence=Settings().geocode_min_confidence):
                typer.echo(line)
        except RuntimeError as exc:
            raise _fail(str(exc), 1) from exc


@app.command()
def simulate(
    url: Annotated[str, typer.Option(help="the running service")] = "http://127.0.0.1:8000",
    round_seconds: Annotated[float, typer.Option(help="seconds between rounds")] = 5.0,
    rounds: Annotated[int | None, typer.Option(help="stop after this many rounds")] = None,
    seed: Annotated[int | None, typer.Option(help="the same seed plays the same day")] = None,
) -> None:
    """Keep a believable day going in the demo through the HTTP API, as its accounts (new
    reports at the hour's rate, work done, hand-ups to the county); GIS_DEMO_LIVE=0: none."""
    import logging
    import time

    import httpx

    from gis_service.demo_live import DemoDay, Pace, run

    settings = Settings()
    if not settings.demo_live:
        typer.echo("GIS_DEMO_LIVE=0: the demo's day is not simulated")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line a minute, not per request
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(120):  # the service may still be starting
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise _fail(f"no service answers at {url}", 1)
        engine = make_engine(settings)
        try:
            day = DemoDay(url, make_session_factory(engine), client=client, seed=seed,
                          pace=Pace(reports_per_hour=settings.demo_reports_per_hour))
            run(day, round_seconds=round_seconds, rounds=rounds)
        except KeyboardInterrupt:
            pass
        finally:
            engine.dispose()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "info", access_log: bool = True) -> None:
    """Run the HTTP service."""
    import uvicorn

    uvicorn.run("gis_service.main:create_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, access_log=access_log)


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="admin, commander, dispatcher, planner, "
                                           "grid_worker, squad or department")],
    scope: Annotated[str | None, typer.Option(
        help="grid_worker: a level-2/3 grid; squad: a district or squad; department: a "
             "department; dispatcher: a town grid or none; others: none")] = None,
    password: Annotated[str | None, typer.Option(
        help="for signing in from a browser: at least 10 characters, not the user name, "
             "not a common password")] = None,
    worker: Annotated[str | None, typer.Option(
        help="the worker code (people table) a field account is, for patrols")] = None,
) -> None:
    """Create an account (exit 1 when refused: name taken, scope, password)."""
    data = _valid(AccountCreate, username=name, role=role, scope_code=scope, password=password,
                  worker_code=worker)
    with _session() as session:
        with _refusals():
            accounts.create_account(session, data)
        session.commit()
    typer.echo(f"已添加用户 {name}（{role}{'，范围 ' + scope if scope else ''}）")


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@user_app.command("list")
def user_list() -> None:
    """Every account: name, role, scope, worker code, disabled, created (China time)."""
    from gis_service.timeutil import CHINA_TIME

    with _session() as session:
        rows = [(a.username, a.role, a.scope_code or "-", a.worker_code or "-",
                 "yes" if a.disabled else "no",
                 a.created_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M"))
                for a in accounts.list_accounts(session)]
    _table(("name", "role", "scope", "worker", "disabled", "created"), list(rows))


def _valid(model: type[Body], **fields: object) -> Body:
    """The model of the given fields; exit 1 with one line per problem when they do not fit."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors())
        raise _fail(problems, 1) from exc


def _change(name: str, changes: AccountUpdate) -> None:
    """Apply changes to an account; exit 1 with one line when refused."""
    with _session() as session:
        with _refusals():
            accounts.update_account(session, username=name, changes=changes)
        session.commit()


@user_app.command("passwd")
def user_passwd(
    name: str,
    password: Annotated[str | None, typer.Option(
        help="the new password (asked twice, unseen, when left out)")] = None,
) -> None:
    """Set an account's password (ends its browser sessions; exit 1 when refused)."""
    if password is None:
        password = typer.prompt(f"{name} 的新密码", hide_input=True,
                                confirmation_prompt="再输一次")
    _change(name, _valid(AccountUpdate, password=password))
    typer.echo(f"已设置 {name} 的新密码；其浏览器会话已结束")


@user_app.command("disable")
def user_disable(name: str) -> None:
    """Disable an account: its tokens and browser sessions stop working."""
    _change(name, AccountUpdate(disabled=True))
    typer.echo(f"已停用 {name}：其令牌和浏览器会话已作废（运行中的服务最迟在令牌缓存时长内拒绝，"
               "默认 30 秒）")


@user_app.command("enable")
def user_enable(name: str) -> None:
    """Enable a disabled account (it signs in again, or gets a new token)."""
    _change(name, AccountUpdate(disabled=False))
    typer.echo(f"已启用 {name}：请重新登录或用 `gis-service token {name}` 取新令牌")


@user_app.command("remove")
def user_remove(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Remove an account that has not acted (one that has is refused: disable it)."""
    if not yes and not typer.confirm(f"删除用户 {name}？"):
        raise _fail("未删除", 1)
    with _session() as session:
        with _refusals():
            accounts.remove_account(session, username=name)
        session.commit()
    typer.echo(f"已删除用户 {name}")


# the operator at the service's machine acts as its admin
OPERATOR = Principal(account_id=0, username="operator", role="admin", scope_code=None)


def _listed(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@subscriptions_app.command("add")
def subscriptions_add(
    url: str,
    events: Annotated[str, typer.Option(help="comma-separated: incident.created, "
                                             "incident.updated, incident.closed, "
                                             "incident.escalated, enforcement.result, "
                                             "plan.published")],
    sources: Annotated[str | None, typer.Option(help="only these channels, e.g. "
                                                     "hotline_12345")] = None,
    areas: Annotated[str | None, typer.Option(help="only these grid/district/town/county "
                                                   "codes")] = None,
    assignees: Annotated[str | None, typer.Option(help="only these handlers, type:code")] = None,
    description: str = "",
    contact_allowed: Annotated[bool, typer.Option(
        "--contact-allowed", help="events carry reporters' names and phones whole (the 12345 "
                                  "platform); masked otherwise")] = False,
) -> None:
    """Subscribe an endpoint; prints its id and signing secret (shown this once)."""
    body = _valid(SubscriptionCreate, url=url, events=_listed(events), sources=_listed(sources),
                  areas=_listed(areas), assignees=_listed(assignees), description=description,
                  contact_allowed=contact_allowed)
    allowed = allowed_hosts(Settings().webhook_allowed_hosts)
    with _session() as session, _refusals():
        made, secret = subscriptions.create(session, principal=OPERATOR, body=body,
                                            allowed=allowed, now=datetime.now(UTC))
    typer.echo(f"subscription {made.id}: {url}\nsecret (shown once): {secret}")


@subscriptions_app.command("list")
def subscriptions_list() -> None:
    """Every subscription: id, enabled (or why not), events, filters, URL."""
    with _session() as session:
        rows: list[tuple[object, ...]] = [
            (s.id, "yes" if s.enabled else f"no ({s.disabled_reason})", ",".join(s.events),
             ";".join(f"{k}={','.join(v)}" for k, v in (("sources", s.sources),
                                                        ("areas", s.areas),
                                                        ("assignees", s.assignees)) if v) or "-",
             s.url) for s in subscriptions.list_all(session, principal=OPERATOR)]
    _table(("id", "enabled", "events", "filters", "url"), rows)


def _switch(subscription_id: int, enabled: bool) -> None:
    with _session() as session, _refusals():
        subscriptions.change(session, principal=OPERATOR, subscription_id=subscription_id,
                             body=SubscriptionChange(enabled=enabled), now=datetime.now(UTC))
    typer.echo(f"subscription {subscription_id} {'enabled' if enabled else 'disabled'}")


@subscriptions_app.command("enable")
def subscriptions_enable(subscription_id: int) -> None:
    """Enable a subscription again: its pending deliveries are sent at once."""
    _switch(subscription_id, True)


@subscriptions_app.command("disable")
def subscriptions_disable(subscription_id: int) -> None:
    """Disable a subscription: nothing is sent to it, its deliveries wait."""
    _switch(subscription_id, False)


@subscriptions_app.command("remove")
def subscriptions_remove(
    subscription_id: int,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
) -> None:
    """Remove a subscription and its deliveries."""
    if not yes and not typer.confirm(f"删除订阅 {subscription_id}？"):
        raise _fail("未删除", 1)
    with _session() as session, _refusals():
        subscriptions.remove(session, principal=OPERATOR, subscription_id=subscription_id)
    typer.echo(f"subscription {subscription_id} removed")


@subscriptions_app.command("deliveries")
def subscriptions_deliveries(
    subscription_id: int,
    status: Annotated[str | None, typer.Option(help="pending, delivered or failed")] = None,
    limit: int = 50,
) -> None:
    """A subscription's latest deliveries: status, tries, last answer, next try."""
    if status not in (None, "pending", "delivered", "failed"):
        raise _fail(f"status {status!r}: pending, delivered or failed", 1)
    with _session() as session, _refusals():
        page = subscriptions.deliveries(session, principal=OPERATOR,
                                        subscription_id=subscription_id, status=status,
                                        before=None, limit=limit)
    _table(("id", "type", "incident", "status", "tries", "last", "next try", "error"),
           [(d.id, d.type, d.incident_id or "-", d.status, d.attempts, d.last_status or "-",
             d.next_try_at.isoformat(timespec="seconds") if d.next_try_at else "-",
             (d.last_error or "")[:60]) for d in page.items])


@subscriptions_app.command("redeliver")
def subscriptions_redeliver(subscription_id: int, delivery_id: int) -> None:
    """Send a delivery again now (the same webhook-id)."""
    with _session() as session, _refusals():
        subscriptions.redeliver(session, principal=OPERATOR, subscription_id=subscription_id,
                                delivery_id=delivery_id, now=datetime.now(UTC))
    typer.echo(f"delivery {delivery_id} is due again")


@peers_app.command("add")
def peers_add(
    code: Annotated[str, typer.Argument(help="the county grid (kind county) or town grid "
                                             "(kind town) the peer is known by here")],
    kind: Annotated[str, typer.Option(help="county (the platform above) or town (below)")],
    secret: Annotated[str, typer.Option(help="the whsec_… secret the peer's subscription to "
                                             "this platform was given")],
) -> None:
    """Take in a peer platform's events at /api/v1/peers/CODE/events."""
    body = _valid(PeerCreate, code=code, kind=kind, secret=secret)
    with _session() as session, _refusals():
        peers.add(session, principal=OPERATOR, body=body, now=datetime.now(UTC))
    typer.echo(f"peer {code} ({kind}): its events come in at /api/v1/peers/{code}/events")


@peers_app.command("list")
def peers_list() -> None:
    """The registered peers."""
    with _session() as session:
        rows: list[tuple[object, ...]] = [
            (p.code, p.kind, p.created_at.isoformat(timespec="seconds"))
            for p in peers.list_all(session, principal=OPERATOR)]
    _table(("code", "kind", "added"), rows)


@peers_app.command("remove")
def peers_remove(code: str) -> None:
    """Stop taking in a peer's events."""
    with _session() as session, _refusals():
        peers.remove(session, principal=OPERATOR, code=code)
    typer.echo(f"peer {code} removed")


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-compute every incident's hash chain; exit 1 and name each tampered incident."""
    from gis_service.incidents.audit import verify_all

    broken = 0
    with _session() as session:
        for incident_id, problems in verify_all(session):
            broken += 1
            for problem in problems:
                typer.echo(f"incident {incident_id}: {problem}")
    if broken:
        raise _fail(f"{broken} incident(s) with a broken history", 1)
    typer.echo("every incident's history is intact")


@app.command()
def token(name: str) -> None:
    """Print a new bearer token for an account."""
    with _session() as session:
        with _refusals():
            value = auth_service.issue_token(session, username=name)
        session.commit()
    typer.echo(value)


@app.command()
def relocate(
    at: Annotated[str | None, typer.Option(help="ISO time of the boundaries (default now; "
                                                "without a zone: China time)")] = None,
    input_path: Annotated[Path | None, typer.Option(
        "--input", help="a GeoParquet file of points instead of the stored incidents")] = None,
    output: Annotated[Path | None, typer.Option(
        help="write every point with its codes to this GeoParquet file, not the database")]
        = None,
    scheduler: Annotated[str | None, typer.Option(help="a dask scheduler, tcp://host:port")]
        = None,
    workers: Annotated[int | None, typer.Option(help="a local dask cluster of N workers")]
        = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count what would change")] = False,
    batch_size: Annotated[int, typer.Option(help="points per batch")] = 200_000,
) -> None:
    """Re-attribute stored incidents (or a GeoParquet file of points) to the boundaries valid
    at a time. Exit 1 = the boundaries changed meanwhile, 2 = bad input, 3 = no scheduler."""
    from gis_service.relocate.cli import CommandError, run

    with _session() as session:
        try:
            done = run(session, at=at, input_path=input_path, output=output,
                       scheduler=scheduler, workers=workers, dry_run=dry_run,
                       batch_size=batch_size)
        except CommandError as exc:
            raise _fail(str(exc), exc.code) from exc
    for line in done.lines():
        typer.echo(line)


@app.command("export")
def export_files(
    kind: Annotated[str, typer.Argument(help="what to export: incidents")],
    fmt: Annotated[str, typer.Option("--format", help="parquet (GeoParquet)")] = "parquet",
    out: Annotated[Path, typer.Option(help="the folder to write (new or empty)")] = Path("export"),
) -> None:
    """Export incidents as GeoParquet partitioned by town and month (town_code=…/month=…/),
    for dask-geopandas or GDAL. Exit 2 = unknown kind or format, or a folder not empty."""
    from gis_service.exports.parquet import export

    with _session() as session:
        try:
            made = export(session, kind=kind, fmt=fmt, out=out, progress=sys.stderr.isatty())
        except DomainError as exc:
            raise _fail(exc.detail, 2) from exc
    typer.echo(f"{made.rows:,} {kind} in {made.partitions:,} partitions "
               f"({made.files:,} files) under {out}")


REPORT_SUFFIXES = (".html", ".json", ".csv")


@app.command("report")
def report(
    kind: Annotated[str, typer.Argument(help="weekly or monthly")],
    area: Annotated[str, typer.Option(help="a grid (level 1, 2 or 3) or district code")],
    out: Annotated[Path, typer.Option(help="the file to write: .html, .json or .csv")],
    day: Annotated[str | None, typer.Option(
        "--date", help="YYYY-MM-DD, a day of the week (weekly; the last full week)")] = None,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (monthly; this month)")] = None,
) -> None:
    """Write the weekly review or monthly analysis of an area as HTML, JSON or CSV (by the
    file's suffix); exit 2 for an unknown kind, area, date or suffix."""
    import json
    from datetime import UTC, date, datetime

    from gis_service.hotspots.service import thresholds_from
    from gis_service.reports.csv import report_csv
    from gis_service.reports.periods import parse_month
    from gis_service.reports.service import monthly_report, report_map, weekly_report
    from gis_service.timeutil import CHINA_TIME
    from map_ui.report_page import report_page

    suffix = out.suffix.lower()
    if kind not in ("weekly", "monthly"):
        raise _fail(f"unknown report {kind!r}: weekly or monthly", 2)
    if suffix not in REPORT_SUFFIXES:
        raise _fail(f"cannot write {out.name!r}: the file must end in "
                    f"{', '.join(REPORT_SUFFIXES)}", 2)
    today = datetime.now(UTC).astimezone(CHINA_TIME).date()
    try:
        week_day = date.fromisoformat(day) if day else None
        first = parse_month(month) if month else today.replace(day=1)
    except (ValueError, DomainError) as exc:
        raise _fail(f"bad --date or --month: {exc}", 2) from exc
    with _session() as session:
        try:
            made = (weekly_report(session, principal=None, area=area, day=week_day,
                                  thresholds=thresholds_from(Settings()))
                    if kind == "weekly"
                    else monthly_report(session, principal=None, area=area, month=first))
        except DomainError as exc:
            raise _fail(exc.detail, 2) from exc
        if suffix == ".html":
            text = report_page(made, report_map(session, report=made))
        elif suffix == ".csv":
            text = report_csv(made)
        else:
            text = json.dumps(made, ensure_ascii=False, indent=2, default=str)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"{kind} report of {area} written to {out}")


if __name__ == "__main__":
    app()
