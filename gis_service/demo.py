"""Loading the demo town from `data/demo/` through the ordinary importers (idempotent).

The demo's year of incidents ends at a fixed moment (`HISTORY_ENDS`) so that its files are
the same on every rebuild; on loading, every time in them is moved forward by whole days so
that the year ends today and the wall's "last 30 days" is never empty.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.accounts import create_account
from gis_service.auth.models import Account
from gis_service.auth.schemas import AccountCreate
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.imports.service import run_import
from gis_service.people.models import Department, Worker
from gis_service.places.models import District

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
TOWN_CODE = "QD"
CHINA = timezone(timedelta(hours=8))
HISTORY_ENDS = datetime(2026, 11, 20, 18, 0, tzinfo=CHINA)  # data/build_demo.py's anchor
TIME_COLUMNS = ("reported_at", "county_due_at", "closed_at")
# Order matters: stations and workers refer to grids, workers to districts and departments,
# the responsibility list to departments; incidents are routed by all of it and geocoded
# against the address points.
DEMO_FILES = (("grids", "grids.geojson"), ("districts", "districts.geojson"),
              ("zones", "zones.geojson"), ("projects", "projects.geojson"),
              ("stations", "stations.geojson"), ("departments", "departments.csv"),
              ("workers", "workers.csv"), ("responsibilities", "responsibilities.csv"),
              ("zone_rules", "zone_rules.csv"), ("addresses", "addresses.csv"),
              ("incidents", "incidents.csv"))
DEMO_PASSWORD = "demo"  # the demo's accounts only; README says so


def load_demo_town(session: Session, folder: Path = DEMO_DIR, *, progress: bool = False,
                   now: datetime | None = None,
                   min_confidence: float | None = None) -> Iterator[str]:
    """Import every demo file, committing each, then make the demo accounts; re-running
    stores nothing new."""
    if not folder.exists():
        yield f"no demo town at {folder}: nothing to load"
        return
    shift = history_shift(now or datetime.now(UTC))
    for kind, name in DEMO_FILES:
        path = folder / name
        if not path.exists():
            continue
        yield f"loading {kind} from {path.name}"
        if kind == "incidents":
            yield f"(times moved forward {shift.days} days, so that the history ends today)"
            with tempfile.TemporaryDirectory(prefix="gis-demo-") as scratch:
                moved = shift_times(path, Path(scratch) / path.name, shift)
                report = run_import(session, kind, moved, progress=progress,
                                    min_confidence=min_confidence)
            report.source = str(path)  # the demo's file, not the moved copy
        else:
            report = run_import(session, kind, path, progress=progress)
        yield from report.lines()
        if not report.accepted:
            raise RuntimeError(f"the demo file {path} was rejected")
        session.commit()
    yield from _accounts(session)
    session.commit()


def demo_town_loaded(session: Session) -> bool | None:
    """True when the demo town is stored, False when the database holds no town at all,
    None when it holds another town (the demo must not be loaded over it)."""
    codes = set(session.scalars(select(GridVersion.code).where(
        GridVersion.level == 1, valid_at(datetime.now(UTC)))))
    if not codes:
        return False
    return True if TOWN_CODE in codes else None


def history_shift(now: datetime) -> timedelta:
    """Whole days that move the history's end to the last such moment before `now`."""
    return timedelta(days=(now - HISTORY_ENDS) // timedelta(days=1))


def shift_times(source: Path, target: Path, shift: timedelta) -> Path:
    """A copy of an incidents CSV with every time column moved by `shift`."""
    with source.open(encoding="utf-8", newline="") as read, \
            target.open("w", encoding="utf-8", newline="") as write:
        reader = csv.DictReader(read)
        assert reader.fieldnames is not None
        writer = csv.DictWriter(write, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            for column in TIME_COLUMNS:
                if row.get(column):
                    row[column] = (datetime.fromisoformat(row[column]) + shift).isoformat()
            writer.writerow(row)
    return target


def _accounts(session: Session) -> Iterator[str]:
    """One account per kind of user, scoped to the first grid, district and department."""
    grid = session.scalar(select(GridVersion.code).where(
        GridVersion.level == 3, valid_at(datetime.now(UTC))).order_by(GridVersion.code))
    district = session.scalar(select(District.code).order_by(District.code))
    department = session.scalar(select(Department.code).order_by(Department.code))
    wanted = [("admin", "admin", None), ("commander", "commander", None),
              ("dispatcher", "dispatcher", None), ("planner", "planner", None),
              ("gridworker", "grid_worker", grid), ("squad", "squad", district),
              ("department", "department", department)]
    existing = set(session.scalars(select(Account.username)))
    for username, role, scope in wanted:
        if username in existing or (role in ("grid_worker", "squad", "department")
                                    and scope is None):
            continue
        # the one exception to the password policy, on purpose: the demo's accounts keep the
        # documented password 'demo' (README: for the demo only); their scopes are checked
        account = create_account(session, AccountCreate(
            username=username, role=role, scope_code=scope, password=DEMO_PASSWORD),
            password_policy=False)
        if role == "grid_worker":  # the A post on duty in its grid: its patrols are theirs
            account.worker_code = session.scalar(select(Worker.code).where(
                Worker.role == "grid_worker", Worker.grid_code == scope,
                Worker.on_duty.is_(True)).order_by(Worker.code))
        where = f" (scope {scope})" if scope else ""
        yield f"demo account {username}: {role}{where}, password {DEMO_PASSWORD!r}"
