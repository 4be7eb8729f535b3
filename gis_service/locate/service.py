"""Building locator snapshots from the database and keeping the current one fresh."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic

import shapely
from sqlalchemy.orm import Session, sessionmaker

from gis_service.grids.queries import version_ids_at
from gis_service.locate import queries
from gis_service.locate.snapshot import Area, Book, LayerInput, LocatorSnapshot
from gis_service.people.models import Worker


def _on_duty_worker(workers: list[Worker], by_code: dict[str, Worker]) -> Worker | None:
    """The grid's A post when on duty, else its B post (AB岗), else whoever is on duty."""
    for worker in workers:
        if worker.on_duty:
            return worker
        backup = by_code.get(worker.backup_code or "")
        if backup is not None and backup.on_duty:
            return backup
    return workers[0] if workers else None


def load_layers(session: Session, at: datetime) -> LayerInput:
    """Every layer valid at `at`, ready to build a snapshot."""
    layers = LayerInput()
    by_level = {0: layers.counties, 1: layers.towns, 2: layers.grid2, 3: layers.grid3}
    for code, name, level, kind, wkb in queries.grid_rows(session, at):
        geometry = shapely.from_wkb(bytes(wkb))
        if level is None:
            layers.special.append(Area(code, geometry, {"code": code, "name": name,
                                                        "kind": kind}))
        else:
            by_level[level].append(Area(code, geometry, {"code": code, "name": name}))
    for code, name, squad_code, wkb in queries.district_rows(session):
        layers.districts.append(Area(code, shapely.from_wkb(bytes(wkb)),
                                     {"code": code, "name": name, "squad_code": squad_code}))
    for code, name, level, wkb in queries.zone_rows(session):
        layers.zones.append(Area(code, shapely.from_wkb(bytes(wkb)),
                                 {"code": code, "name": name, "level": level}))
    workers = queries.grid_workers(session)
    by_code = {w.code: w for w in workers}
    per_grid: dict[str, list[Worker]] = {}
    for worker in workers:
        per_grid.setdefault(worker.grid_code or "", []).append(worker)
    for grid_code, grid_workers in per_grid.items():
        chosen = _on_duty_worker(grid_workers, by_code)
        if chosen is not None:
            layers.worker_by_grid[grid_code] = {"code": chosen.code, "name": chosen.name}
    return layers


class LocatorCache(Generic[Book]):
    """The current snapshot (re-checked at most every `refresh_seconds`) and a few past ones,
    each with what `extra` builds beside it (the service's: the routing book)."""

    def __init__(self, session_factory: sessionmaker[Session], refresh_seconds: float,
                 extra: Callable[[Session], Book] | None = None) -> None:
        self._factory = session_factory
        self._extra = extra  # built with every snapshot and kept on it, e.g. the routing book
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._current: LocatorSnapshot[Book] | None = None
        self._change_id = -1
        self._checked_at = 0.0
        self._valid_until: datetime | None = None  # a later version starts or ends then
        self._past: OrderedDict[tuple[int, tuple[int, ...]], LocatorSnapshot[Book]] = OrderedDict()

    def fresh(self) -> LocatorSnapshot[Book] | None:
        """The current snapshot without waiting on the database: when its check is due, one
        background thread re-checks while callers keep the snapshot they have (at most one
        refresh period plus a query old). None before the first snapshot exists."""
        snapshot = self._current
        if snapshot is None or self._refresh <= 0 or self._expired():
            return None  # no snapshot yet, every answer must see the latest change, or stale
        if time.monotonic() >= self._checked_at + self._refresh and not self._lock.locked():
            threading.Thread(target=self.current, daemon=True).start()
        return snapshot

    def current(self) -> LocatorSnapshot[Book]:
        """The snapshot of the boundaries valid now (checked against the database when due)."""
        snapshot = self._current
        if snapshot is not None and not self._due():
            return snapshot
        with self._lock, self._factory() as session:
            if self._current is not None and not self._due():
                return self._current  # another thread refreshed while we waited
            change_id = queries.latest_change_id(session)
            if self._current is None or change_id != self._change_id or self._expired():
                now = datetime.now(UTC)
                self._current = self._build(session, now)
                self._change_id = change_id
                self._valid_until = queries.next_boundary_change(session, now)
            self._checked_at = time.monotonic()
            return self._current

    def _expired(self) -> bool:
        # a plan published for a later date takes effect by the clock, with no new change row
        return self._valid_until is not None and datetime.now(UTC) >= self._valid_until

    def _due(self) -> bool:
        return time.monotonic() >= self._checked_at + self._refresh or self._expired()

    def at(self, moment: datetime) -> LocatorSnapshot[Book]:
        """The snapshot of the boundaries valid at `moment` (kept for re-use, a few at a time)."""
        with self._lock, self._factory() as session:
            key = (queries.latest_change_id(session), version_ids_at(session, moment))
            snapshot = self._past.get(key)
            if snapshot is None:
                snapshot = self._build(session, moment)
                self._past[key] = snapshot
                if len(self._past) > 4:
                    self._past.popitem(last=False)
            self._past.move_to_end(key)
            return snapshot

    def _build(self, session: Session, moment: datetime) -> LocatorSnapshot[Book]:
        snapshot: LocatorSnapshot[Book] = LocatorSnapshot(load_layers(session, moment))
        if self._extra is not None:
            snapshot.extra = self._extra(session)
        return snapshot

    def invalidate(self) -> None:
        """Forget the current snapshot (after a change made in this process)."""
        self._current = None
