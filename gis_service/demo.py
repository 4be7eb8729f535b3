"""Loading the demo town from `data/demo/`, and the demo county around it from `data/county/`
when that is there, through the ordinary importers (idempotent).

The demo's files end at a fixed moment (`HISTORY_ENDS`) so that they are the same on every
rebuild. On loading, every time in them (incidents, camera events, patrol tracks, spot
checks) is moved forward by the exact time since then, so that the history ends now: today
has its reports up to this hour, and what was open or overdue when the files end is open or
overdue now. Times of day move with it (loaded at 18:00 China time, the day's rhythm is as
built); a shift by whole days would keep the rhythm but leave today empty until the evening.

The town's cameras, its video scenes and its grid teams are imported as the other files
are. Its day of camera events is not a file of incidents (the bulk import refuses camera
events: what they become depends on what came before): after the history, each is sent
through the intake as the video platform sends one, so that repeats fold into their incident
and unsure ones wait for confirmation exactly as they would have that day.

Every grid worker gets an account without a password (an operator gives one with
`gis-service user passwd`), so that their month of patrol tracks and their last position have
an owner, as the phone app's would.

The county's files are loaded kind by kind after the town's (grids, districts, departments,
workers, responsibilities, addresses, incidents, then the neighbour towns' patrol tracks and
spot checks, each file skipped once any of its workers has one stored). They restate what
the county changes about the town: its outline under the county grid, its departments with
their tier and town, its duties as its own rows beside the county-wide ones. So the town's
grids are loaded with the county's statement of its outline (one file, one validation of the
whole county), and its departments and duties from the county's files alone; loading the
town's own first and then the county's would store a new version of the town at every re-run
and flip its departments back and forth.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gis_service.assessment.models import SpotCheck
from gis_service.assessment.schemas import SpotCheckCreate
from gis_service.assessment.service import record_spot_check
from gis_service.auth.accounts import create_account
from gis_service.auth.models import Account
from gis_service.auth.schemas import AccountCreate
from gis_service.config import Settings
from gis_service.errors import DomainError
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident, VideoDetection
from gis_service.incidents.routing_book import Snapshot, load_routing_book
from gis_service.incidents.schemas import IncidentCreate, Location
from gis_service.incidents.service import Report, intake_many, intake_policy
from gis_service.locate.service import load_layers
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.patrols.models import PatrolTrack
from gis_service.patrols.service import WalkedTrack, store_tracks
from gis_service.people.models import Department, GridTeamMember, Worker
from gis_service.places.models import District
from grid_layers import crs as crs_module

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
COUNTY_DIR_NAME = "county"  # the county's files, beside the town's folder
TOWN_CODE = "QD"
CHINA = timezone(timedelta(hours=8))
HISTORY_ENDS = datetime(2026, 11, 20, 18, 0, tzinfo=CHINA)  # data/build_demo.py's anchor
TIME_COLUMNS = ("reported_at", "county_due_at", "closed_at")
# Order matters: stations and workers refer to grids, workers to districts and departments,
# the responsibility list to departments; incidents are routed by all of it and geocoded
# against the address points.
# Cameras must stand in a stored town; a team member's code must be no department's; a
# video scene names a category of the responsibility list.
DEMO_FILES = (("grids", "grids.geojson"), ("districts", "districts.geojson"),
              ("zones", "zones.geojson"), ("projects", "projects.geojson"),
              ("stations", "stations.geojson"), ("cameras", "cameras.csv"),
              ("departments", "departments.csv"), ("workers", "workers.csv"),
              ("grid_team", "grid_team.csv"), ("responsibilities", "responsibilities.csv"),
              ("video_scenes", "video_scenes.csv"), ("zone_rules", "zone_rules.csv"),
              ("addresses", "addresses.csv"), ("incidents", "incidents.csv"))
CAMERA_EVENTS = "camera_events.csv"  # a day of camera events, sent through the intake
CAMERA_ACTOR = "video_platform"  # who sends them, as the video platform's account would
CAMERA_BATCH = 100  # events taken in and committed together, as the group commit does
DEMO_PASSWORD = "demo"  # the demo's accounts only; README says so
# the county's files by kind; those in RESTATED replace the town's file of that kind
COUNTY_FILES = {"grids": "grids.geojson", "districts": "districts.geojson",
                "departments": "departments.csv", "workers": "workers.csv",
                "responsibilities": "responsibilities.csv", "addresses": "addresses.csv",
                "incidents": "incidents.csv"}
RESTATED = frozenset({"departments", "responsibilities"})
COUNTY_ACCOUNTS = "accounts.csv"  # username,role,scope_code: the county's demo accounts


def load_demo_town(session: Session, folder: Path = DEMO_DIR, *, with_county: bool = True,
                   progress: bool = False, now: datetime | None = None,
                   min_confidence: float | None = None) -> Iterator[str]:
    """Import every demo file (and the county's beside them, if there and `with_county`),
    committing each, with the demo accounts made before the incidents (a grid worker's
    reports are theirs), then the patrols; re-running stores nothing new."""
    if not folder.exists():
        yield f"no demo town at {folder}: nothing to load"
        return
    county: Path | None = folder.parent / COUNTY_DIR_NAME
    if not with_county or not folder.parent.joinpath(COUNTY_DIR_NAME).is_dir():
        county = None
    now = now or datetime.now(UTC)
    shift = history_shift(now)
    with tempfile.TemporaryDirectory(prefix="gis-demo-") as scratch:
        for kind, name in DEMO_FILES:
            paths = _files(kind, folder / name, county, Path(scratch))
            if kind == "incidents" and paths:  # grid-app reports name their worker's account
                yield from _accounts(session, county)
                session.commit()
                yield from _field_accounts(session)
                session.commit()
            for label, source, path in paths:
                yield f"loading {kind} from {label}"
                if kind == "incidents":
                    if source == paths[0][1]:
                        yield (f"(times moved forward {_span(shift)}, so that the history "
                               "ends now)")
                    path = shift_times(path, Path(scratch) / f"moved-{path.name}", shift)
                    report = run_import(session, kind, path, progress=progress,
                                        min_confidence=min_confidence)
                else:
                    report = run_import(session, kind, path, progress=progress)
                report.source = source  # the demo's file, not a moved or merged copy
                yield from report.lines()
                if not report.accepted:
                    raise RuntimeError(f"the demo file {source} was rejected")
                session.commit()
    yield from send_camera_events(session, folder / CAMERA_EVENTS, shift, now)
    yield from _patrols(session, folder / "patrols.geojson", shift, now)
    yield from _spot_checks(session, folder / "spot_checks.csv", shift, now)
    if county is not None:  # the neighbour towns' grid workers
        yield from _patrols(session, county / "patrols.geojson", shift, now, of=" (county)")
        yield from _spot_checks(session, county / "spot_checks.csv", shift, now,
                                of=" (county)")
    session.commit()


def _files(kind: str, path: Path, county: Path | None,
           scratch: Path) -> list[tuple[str, str, Path]]:
    """(name to show, source to report, file to import) for one kind: the town's file, then
    the county's of the same kind; the county's alone where it restates the town's; for the
    grids, one file of both with the town's outline as the county states it."""
    town = [(path.name, str(path), path)] if path.exists() else []
    other = county / COUNTY_FILES[kind] if county and kind in COUNTY_FILES else None
    if other is None or not other.exists():
        return town
    shown = f"{other.parent.name}/{other.name}"
    if kind in RESTATED or not town:
        return [(shown, str(other), other)]
    if kind == "grids":
        merged = merge_grids(path, other, scratch / "grids.geojson")
        return [(f"{path.name} and {shown}", f"{path} + {other}", merged)]
    return [*town, (shown, str(other), other)]


def merge_grids(town: Path, county: Path, target: Path) -> Path:
    """One FeatureCollection of the town's grids and the county's, the county's feature
    winning where both hold a code (the town's outline, now under the county)."""
    features = {f["properties"]["code"]: f for f in _features(town)}
    features |= {f["properties"]["code"]: f for f in _features(county)}
    target.write_text(json.dumps({"type": "FeatureCollection",
                                  "features": list(features.values())}, ensure_ascii=False),
                      encoding="utf-8")
    return target


def _features(path: Path) -> list[dict[str, Any]]:
    features: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return features


def demo_town_loaded(session: Session) -> bool | None:
    """True when the demo town is stored, False when the database holds no town at all,
    None when it holds another town (the demo must not be loaded over it)."""
    codes = set(session.scalars(select(GridVersion.code).where(
        GridVersion.level == 1, valid_at(datetime.now(UTC)))))
    if not codes:
        return False
    return True if TOWN_CODE in codes else None


def history_shift(now: datetime) -> timedelta:
    """What moves the history's end to `now` (whole seconds, so written times stay short)."""
    return timedelta(seconds=(now - HISTORY_ENDS) // timedelta(seconds=1))


def _span(shift: timedelta) -> str:
    hours, seconds = divmod(shift.seconds, 3600)
    return f"{shift.days} days {hours} h {seconds // 60} min"


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


def send_camera_events(session: Session, path: Path, shift: timedelta,
                   now: datetime) -> Iterator[str]:
    """The day of camera events through the intake, as the video platform sends them to
    `POST /api/v1/incidents` (`intake_many`, the group commit's call): in time order, each
    arriving when seen, moved by `shift` (the same for all, so the gaps that decide what folds
    stay as built), committed in batches. An event whose external id is stored (made an
    incident or was folded into one) is not sent again: a re-run sends nothing."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [row["external_id"] for row in rows]
    stored = set(session.scalars(select(Incident.external_id).where(
        Incident.source == "video", Incident.external_id.in_(ids))))
    stored |= set(session.scalars(select(VideoDetection.external_id).where(
        VideoDetection.external_id.in_(ids))))
    rows = [row for row in rows if row["external_id"] not in stored]
    if not rows:
        yield f"camera events: all {len(ids)} sent before, none sent"
        return
    # the boundaries as they stand (imported moments ago), not as at the moved history's end
    snapshot: Snapshot = LocatorSnapshot(load_layers(session, datetime.now(UTC)))
    snapshot.extra = load_routing_book(session)
    policy = intake_policy(Settings(), None)
    made = 0
    for start in range(0, len(rows), CAMERA_BATCH):
        batch = rows[start:start + CAMERA_BATCH]
        reports = [_camera_report(row, shift) for row in batch]
        for row, outcome in zip(batch, intake_many(session, snapshot, reports, policy),
                                strict=True):
            if isinstance(outcome, DomainError):
                raise RuntimeError(f"the demo file {path} was rejected: event "
                                   f"{row['external_id']}: {outcome}")
            made += outcome.created
        session.commit()
    yield (f"{len(rows)} camera events sent through the intake: {made} incidents made, "
           f"{len(rows) - made} repeats folded in"
           + (f" ({len(stored)} sent before)" if stored else ""))


def _camera_report(row: dict[str, str], shift: timedelta) -> Report:
    """One camera event as the intake takes it, arriving when it was seen."""
    seen = datetime.fromisoformat(row["reported_at"]) + shift
    location = (Location(lon=float(row["lon"]), lat=float(row["lat"]), crs="wgs84")
                if row.get("lon") and row.get("lat") else None)
    body = IncidentCreate(source="video", external_id=row["external_id"],
                          camera_code=row["camera_code"], scene=row["scene"],
                          confidence=float(row["confidence"]) if row["confidence"] else None,
                          location=location, reported_at=seen)
    return Report(CAMERA_ACTOR, body, seen)


def _accounts(session: Session, county: Path | None = None) -> Iterator[str]:
    """One account per kind of user, scoped to the town's first grid, district and department;
    with the county, its centers' accounts (accounts.csv: the county center, its commander and
    planner, and each town's center)."""
    now = datetime.now(UTC)
    villages = select(GridVersion.code).where(GridVersion.level == 2,
                                              GridVersion.parent_code == TOWN_CODE, valid_at(now))
    grid = session.scalar(select(GridVersion.code).where(
        GridVersion.level == 3, GridVersion.parent_code.in_(villages.scalar_subquery()),
        valid_at(now)).order_by(GridVersion.code))
    town = select(GridVersion.geom).where(GridVersion.code == TOWN_CODE, valid_at(now))
    district = session.scalar(select(District.code).where(func.ST_Covers(
        town.scalar_subquery(), func.ST_PointOnSurface(District.geom))).order_by(District.code))
    department = session.scalar(select(Department.code).where(
        Department.tier == "town",
        or_(Department.town_code.is_(None), Department.town_code == TOWN_CODE))
        .order_by(Department.code))
    officer = session.scalar(select(GridTeamMember.code).where(
        GridTeamMember.grid_code == grid, GridTeamMember.role == "police_officer")
        .order_by(GridTeamMember.code))  # the first grid's community officer (1+1+N)
    wanted = [("admin", "admin", None), ("commander", "commander", None),
              ("dispatcher", "dispatcher", None), ("planner", "planner", None),
              ("gridworker", "grid_worker", grid), ("squad", "squad", district),
              ("department", "department", department), ("police", "team", officer)]
    if county is not None and (county / COUNTY_ACCOUNTS).exists():
        with (county / COUNTY_ACCOUNTS).open(encoding="utf-8", newline="") as handle:
            wanted += [(row["username"], row["role"], row["scope_code"] or None)
                       for row in csv.DictReader(handle)]
    existing = set(session.scalars(select(Account.username)))
    for username, role, scope in wanted:
        if username in existing or (role in ("grid_worker", "squad", "department", "team")
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


def _field_accounts(session: Session) -> Iterator[str]:
    """An account without a password for every grid worker who has none, named by the
    worker's code in lower case."""
    linked = set(session.scalars(select(Account.worker_code)))
    taken = set(session.scalars(select(Account.username)))
    made = 0
    for worker in session.scalars(select(Worker).where(Worker.role == "grid_worker")
                                  .order_by(Worker.code)):
        name = worker.code.lower()
        if worker.code in linked or name in taken or not worker.grid_code:
            continue
        create_account(session, AccountCreate(username=name, role="grid_worker",
                                              scope_code=worker.grid_code,
                                              worker_code=worker.code))
        made += 1
    if made:
        yield (f"{made} field accounts for the grid workers (gw-01-02, …; no password: give "
               "one with `gis-service user passwd`)")


def _owners(session: Session) -> dict[str, int]:
    """The account of each worker that has one (the oldest, when several name it)."""
    owners: dict[str, int] = {}
    for code, account_id in session.execute(select(Account.worker_code, Account.id)
                                            .where(Account.worker_code.is_not(None))
                                            .order_by(Account.id)):
        if code is not None:
            owners.setdefault(code, account_id)
    return owners


def _patrols(session: Session, path: Path, shift: timedelta, now: datetime, *,
             of: str = "") -> Iterator[str]:
    """The grid workers' patrol tracks, their times moved by `shift`, unless a track of one of
    the file's workers is stored; each account's last position is the end of its latest
    track. `of` tells the file's lines apart from another's."""
    if not path.exists():
        return
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    codes = {f["properties"]["worker_code"] for f in features}
    if session.scalar(select(PatrolTrack.id).where(PatrolTrack.worker_code.in_(codes))
                      .limit(1)) is not None:
        yield f"patrol tracks{of}: stored before, none loaded"
        return
    owners = _owners(session)
    tracks = []
    for feature in features:
        props = feature["properties"]
        account = owners.get(props["worker_code"])
        if account is None:
            continue
        points = np.asarray(feature["geometry"]["coordinates"], dtype=np.float64)
        lons, lats = crs_module.to_storage(points[:, 0], points[:, 1], "wgs84")
        tracks.append(WalkedTrack(
            account_id=account, worker_code=props["worker_code"], grid_code=props["grid_code"],
            started_at=datetime.fromisoformat(props["started_at"]) + shift,
            ended_at=datetime.fromisoformat(props["ended_at"]) + shift,
            points=list(zip(lons.tolist(), lats.tolist(), strict=True))))
    stored = store_tracks(session, tracks=tracks, now=now)
    yield f"{stored} patrol tracks of {len({t.account_id for t in tracks})} grid workers{of}"


def _spot_checks(session: Session, path: Path, shift: timedelta, now: datetime, *,
                 of: str = "") -> Iterator[str]:
    """The center's spot checks of grid workers, their times moved by `shift`, unless a check
    of one of the file's workers is stored."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = {row["worker_code"] for row in rows}
    if session.scalar(select(SpotCheck.id).where(SpotCheck.worker_code.in_(codes))
                      .limit(1)) is not None:
        yield f"spot checks{of}: stored before, none loaded"
        return
    for row in rows:
        record_spot_check(session, checker=row["checker"], now=now, body=SpotCheckCreate(
            worker_code=row["worker_code"], passed=row["passed"] == "yes",
            score=int(row["score"]) if row["score"] else None, note=row["note"],
            checked_at=datetime.fromisoformat(row["checked_at"]) + shift))
    yield f"{len(rows)} spot checks{of}"
