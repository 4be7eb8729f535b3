"""The grid workers' last PATROL_DAYS days: walks through their own grid and the center's spot
checks of them.

A walk goes from house to house (and out to a few points in the fields) 80–400 m at a step,
never straight across a bend of the grid's edge (a step strays at most EDGE_M outside), with a
few metres of GPS noise, in the morning and sometimes again in the afternoon. Each
worker has a diligence (0.45–1.0) that sets how often and how far they walk and how their spot
checks go, so the assessment's coverage, active days and checks differ from worker to worker.
A worker off duty (`on_duty = no`) has been on leave for the last 4–25 days. Village grid
heads walk their whole village now and then.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from demo_town.addresses import Address
from demo_town.common import ANCHOR, feature, iso, to_lonlat, to_metric
from demo_town.grids import TownGrids
from demo_town.people import Worker

PATROL_DAYS = 40
FIELD_POINTS = 30  # points in a grid's fields a walk may pass, besides its houses
STEP_M = (80.0, 400.0)  # how far a walk goes from one stop to the next
GPS_NOISE_M = 4.0
EDGE_M = 20.0  # how far a step may stray outside the grid (its stops all lie inside)
WALK_SPEED_MS = 1.1
STOP_SECONDS = 45
CHECKERS = ("dispatcher", "commander")  # the demo town's accounts that make spot checks
PASSED_NOTES = ("台账齐全，巡查记录完整", "现场情况与上报一致", "问题已按时整改到位",
                "熟悉网格内重点人员和场所")
FAILED_NOTES = ("巡查记录与轨迹不符", "网格内问题未及时发现上报", "台账缺失，需补记",
                "整改不到位，已责令重新处置")
SPOT_CHECK_HEADER = ("worker_code", "checked_at", "checker", "passed", "score", "note")


@dataclass(frozen=True)
class Walk:
    """One patrol track as written to patrols.geojson."""

    worker: str
    grid: str
    started_at: datetime
    ended_at: datetime
    line: LineString  # lon/lat

    def feature(self) -> dict[str, Any]:
        """The GeoJSON feature."""
        return feature(self.line, {"worker_code": self.worker, "grid_code": self.grid,
                                   "started_at": iso(self.started_at),
                                   "ended_at": iso(self.ended_at)})


@dataclass(frozen=True)
class Patrols:
    """Every walk and spot check of the period."""

    walks: list[Walk]
    checks: list[list[str]]  # spot_checks.csv rows


class _Stops:
    """The places a walk in one grid may pass (metres): its houses and a few field points."""

    def __init__(self, rng: random.Random, outline: Polygon, houses: np.ndarray) -> None:
        shapely.prepare(outline)
        inside = houses[shapely.contains_xy(outline, houses[:, 0], houses[:, 1])]
        minx, miny, maxx, maxy = outline.bounds
        fields: list[tuple[float, float]] = []
        while len(fields) < FIELD_POINTS:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(outline, x, y):
                fields.append((x, y))
        self.points = np.vstack([inside, np.array(fields)])
        self.area = outline.buffer(EDGE_M)
        shapely.prepare(self.area)

    def walk(self, rng: random.Random, stops: int) -> LineString:
        """A walk of up to `stops` steps from a random start, never back to a stop passed nor
        straight across a bend of the grid's edge."""
        points = self.points
        current = rng.randrange(len(points))
        path, seen = [current], {current}
        for _ in range(stops):
            distance = np.hypot(points[:, 0] - points[current, 0],
                                points[:, 1] - points[current, 1])
            near = np.flatnonzero((distance >= STEP_M[0]) & (distance <= STEP_M[1])).tolist()
            options = [i for i in near if i not in seen]
            if not options:  # out in the fields: on to the nearest place not passed yet
                options = [i for i in np.argsort(distance, kind="stable").tolist()
                           if i not in seen][:1]
            while options:
                step = rng.choice(options)
                if self.area.contains(LineString([points[current], points[step]])):
                    break
                options.remove(step)  # across a bend of the grid's edge: another way
            else:
                break
            current = step
            path.append(current)
            seen.add(current)
        noisy = [(points[i, 0] + rng.gauss(0, GPS_NOISE_M),
                  points[i, 1] + rng.gauss(0, GPS_NOISE_M)) for i in path]
        return LineString(noisy)


def _timed(worker: str, grid: str, start: datetime, stops: int, line_m: LineString) -> Walk:
    seconds = line_m.length / WALK_SPEED_MS + stops * STOP_SECONDS
    line = to_lonlat(line_m)
    assert isinstance(line, LineString)
    return Walk(worker, grid, start, start + timedelta(seconds=round(seconds)), line)


def _days() -> list[date]:
    last = ANCHOR.date()
    return [last - timedelta(days=k) for k in range(PATROL_DAYS - 1, -1, -1)]


def _at(rng: random.Random, day: date, hour: int, spread_minutes: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ANCHOR.tzinfo) + timedelta(
        minutes=rng.randrange(spread_minutes), seconds=rng.randrange(60))


def _worker_walks(rng: random.Random, worker: Worker, stops: _Stops, diligence: float,
                  leave: date | None) -> list[Walk]:
    """A grid worker's walks: most working days, some afternoons, rarely at weekends."""
    walks = []
    for day in _days():
        if leave is not None and day >= leave:
            break
        chance = 0.12 if day.weekday() >= 5 else 0.45 + 0.5 * diligence
        if rng.random() >= chance:
            continue
        hours = (8, 14) if rng.random() < 0.35 * diligence else (8,)
        for hour in hours:
            count = rng.randint(int(8 + 20 * diligence), int(14 + 30 * diligence))
            walk = _timed(worker.code, worker.grid_code, _at(rng, day, hour, 90), count,
                          stops.walk(rng, count))
            if walk.ended_at < ANCHOR:
                walks.append(walk)
    return walks


def _head_walks(rng: random.Random, worker: Worker, stops: _Stops) -> list[Walk]:
    """A village grid head's walks through the village, about one working day in five."""
    walks = []
    for day in _days():
        if day.weekday() >= 5 or rng.random() >= 0.2:
            continue
        count = rng.randint(10, 25)
        walk = _timed(worker.code, worker.grid_code, _at(rng, day, 9, 300), count,
                      stops.walk(rng, count))
        if walk.ended_at < ANCHOR:
            walks.append(walk)
    return walks


def _checks(rng: random.Random, workers: list[Worker], diligence: dict[str, float],
            leave: dict[str, date], checkers: tuple[str, ...]) -> list[list[str]]:
    """On most working days the center checks one grid worker on site."""
    rows = []
    for day in _days():
        if day.weekday() >= 5 or rng.random() >= 0.7:
            continue
        present = [w for w in workers if w.code not in leave or day < leave[w.code]]
        worker = rng.choice(present)
        d = diligence[worker.code]
        passed = rng.random() < 0.55 + 0.45 * d
        score = (min(100, round(rng.gauss(70 + 28 * d, 6))) if passed
                 else rng.randint(35, 59))
        note = rng.choice(PASSED_NOTES if passed else FAILED_NOTES)
        checked = _at(rng, day, 10, 360)
        if checked < ANCHOR:
            rows.append([worker.code, iso(checked), rng.choice(checkers),
                         "yes" if passed else "no", str(score), note])
    return rows


def build_patrols(rng: random.Random, grids: TownGrids, workers: list[Worker],
                  houses: list[Address], *, checkers: tuple[str, ...] = CHECKERS) -> Patrols:
    """Every grid worker's and grid head's walks, and the spot checks (made by one of the
    `checkers`, demo account names), oldest first."""
    points = np.array([(h.x, h.y) for h in houses])
    outlines = {g.code: to_metric(g.geometry) for g in (*grids.villages, *grids.cells)}
    cells = {g.code for g in grids.cells}
    posts = [w for w in workers if w.role == "grid_worker" and w.grid_code in cells]
    heads = [w for w in workers if w.role == "grid_worker" and w.grid_code not in cells]
    diligence: dict[str, float] = {}
    leave: dict[str, date] = {}
    walks: list[Walk] = []
    for worker in posts:
        diligence[worker.code] = rng.uniform(0.45, 1.0)
        if worker.on_duty == "no":
            leave[worker.code] = ANCHOR.date() - timedelta(days=rng.randint(4, 25))
        outline = outlines[worker.grid_code]
        assert isinstance(outline, Polygon)
        walks += _worker_walks(rng, worker, _Stops(rng, outline, points),
                               diligence[worker.code], leave.get(worker.code))
    for worker in heads:
        outline = outlines[worker.grid_code]
        assert isinstance(outline, Polygon)
        walks += _head_walks(rng, worker, _Stops(rng, outline, points))
    walks.sort(key=lambda w: (w.started_at, w.worker))
    return Patrols(walks, _checks(rng, posts, diligence, leave, checkers))
