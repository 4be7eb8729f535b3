"""One year of incident history ending at ANCHOR, from every channel the town center takes.

Hotline, mailbox, county tickets and walk-ins carry an address as people give it; patrol, video
and Open311 reports carry coordinates (the grid app's in GCJ-02). About a third of the reports
gather at six hotspots; illegal fishing and flood reports keep to the shore.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from demo_town.addresses import Address
from demo_town.closure import Closure, close
from demo_town.common import ANCHOR, coord, iso, points_to_lonlat, to_metric
from demo_town.deadlines import Deadlines
from demo_town.people import CATEGORIES
from demo_town.seasons import category_weights, hour_weights
from demo_town.sites import QIDU, Locale
from demo_town.town import Town
from demo_town.wording import describe, spoken
from grid_layers import crs as crs_module

TOTAL = 23_000
DAYS = 365
SOURCES = (("hotline_12345", 0.35), ("mayor_mailbox", 0.05), ("grid_patrol", 0.30),
           ("enforcement_patrol", 0.10), ("video", 0.08), ("county_ticket", 0.07),
           ("open311", 0.03), ("walk_in", 0.02))
ADDRESS_ONLY = frozenset({"hotline_12345", "mayor_mailbox", "county_ticket", "walk_in"})
CRS = {"grid_patrol": "gcj02", "enforcement_patrol": "wgs84", "video": "wgs84",
       "open311": "wgs84"}
ID_FORMAT = {"hotline_12345": "12345-{year}-{n:06d}", "mayor_mailbox": "SZXX-{year}-{n:05d}",
             "grid_patrol": "WG-{year}-{n:06d}", "enforcement_patrol": "ZF-{year}-{n:05d}",
             "video": "SP-{year}-{n:06d}", "county_ticket": "PD-{year}-{n:05d}",
             "open311": "O311-{n:06d}", "walk_in": "ZD-{year}-{n:05d}"}
HOTSPOT_CATEGORIES = {
    "market": ("STREET-VENDOR", "GARBAGE", "FOOD-SAFETY", "PARKING", "NOISE", "FUME"),
    "harbour": ("ILLEGAL-FISHING", "POLLUTION", "FLOATING", "GARBAGE", "PARKING"),
    "industrial": ("POLLUTION", "SAFETY-HAZARD", "SEWAGE", "NOISE", "FIRE-ACCESS", "MUCK"),
    "scenic": ("GARBAGE", "PARKING", "STREET-VENDOR", "FLOATING", "BILLBOARD"),
    "school": ("PARKING", "STREET-VENDOR", "FOOD-SAFETY", "ROAD-DAMAGE"),
    "construction": ("MUCK", "NOISE", "BUILDING", "SAFETY-HAZARD", "ROAD-DAMAGE"),
}
HOTSPOT_SHARE = 0.45  # of a listed category's reports, the share a hotspot draws
SHORE_SHARE = {"ILLEGAL-FISHING": 0.85, "FLOOD": 0.5, "FLOATING": 0.4, "POLLUTION": 0.2}
FIELD_CATEGORIES = frozenset({"STRAW-BURNING", "ILLEGAL-LAND"})  # out in the fields
CAMERAS = 20
OVERDUE_SHARE = (0.05, 0.15)  # of the reports open when the history ends, how many are late
HEADER = ("source", "external_id", "category", "description", "address", "lon", "lat", "crs",
          "reported_at", "parent_ticket_id", "county_due_at", "closed_at", "resolution",
          "satisfaction", "reporter")


@dataclass
class Report:
    """One incident before it is numbered and written."""

    source: str
    category: str
    reported_at: datetime
    x: float
    y: float
    near: Address
    external_id: str = ""
    parent_ticket_id: str = ""
    county_due_at: datetime | None = None


class _Places:
    """Where reports happen: addresses, hotspots, the shore (if any), cameras (all in
    metres)."""

    def __init__(self, rng: random.Random, town: Town, rows: list[Address],
                 locale: Locale) -> None:
        self.rng = rng
        self.rows = rows
        self.points = shapely.points([(r.x, r.y) for r in rows])
        self.tree = shapely.STRtree(self.points)
        self.outline = to_metric(town.outline)
        shapely.prepare(self.outline)
        shore = to_metric(town.shore)
        assert isinstance(shore, LineString)
        self.shore_lines = ([] if shore.is_empty else
                            [self._inland(shore, d) for d in (40.0, 120.0, 250.0)])
        self.hotspots = {s.key: (*_metric(s.lon, s.lat), s.spread_m) for s in locale.hotspots}
        self.fields = [r for r in rows if r.road.endswith("组")] or rows
        self.cameras = self._cameras(locale.town_roads)

    def _inland(self, shore: LineString, distance: float) -> LineString:
        line = shore.offset_curve(distance)
        if not self.outline.contains(line.interpolate(0.5, normalized=True)):
            line = shore.offset_curve(-distance)
        return line

    def _cameras(self, roads: tuple[str, ...]) -> list[tuple[float, float]]:
        """Cameras at the hotspots and at houses along the town roads."""
        spots = [(x, y) for x, y, _ in self.hotspots.values()]
        along = [r for r in self.rows if r.road in roads and not r.poi]
        for row in self.rng.sample(along, CAMERAS - len(spots)):
            spots.append((row.x, row.y))
        return spots

    def inside(self, x: float, y: float) -> bool:
        """True when the point lies in the town."""
        return bool(shapely.contains_xy(self.outline, x, y))

    def nearest(self, x: float, y: float) -> Address:
        """The address nearest a point."""
        return self.rows[int(self.tree.nearest(shapely.Point(x, y)))]

    def jitter(self, x: float, y: float, low: float, high: float) -> tuple[float, float]:
        """A point low..high metres from (x, y), or (x, y) itself if that leaves the town."""
        angle, distance = self.rng.uniform(0, 2 * np.pi), self.rng.uniform(low, high)
        nx, ny = x + distance * np.cos(angle), y + distance * np.sin(angle)
        return (float(nx), float(ny)) if self.inside(nx, ny) else (x, y)

    def locate(self, source: str, category: str) -> tuple[float, float, Address]:
        """Where a report of this kind happens, and the address nearest it."""
        rng = self.rng
        if source == "video":
            x, y = self.jitter(*rng.choice(self.cameras), 5.0, 30.0)
        elif self.shore_lines and rng.random() < SHORE_SHARE.get(category, 0.0):
            line = rng.choice(self.shore_lines)
            point = line.interpolate(rng.random(), normalized=True)
            x, y = (point.x, point.y) if self.inside(point.x, point.y) else self._house()[:2]
        elif (spots := [k for k, cats in HOTSPOT_CATEGORIES.items()
                        if category in cats and k in self.hotspots]) and (
                rng.random() < HOTSPOT_SHARE):
            hx, hy, spread = self.hotspots[rng.choice(spots)]
            x, y = self.jitter(hx, hy, 0.0, spread)
        elif category in FIELD_CATEGORIES:
            row = rng.choice(self.fields)
            x, y = self.jitter(row.x, row.y, 50.0, 200.0)
        else:
            x, y, row = self._house()
            x, y = self.jitter(x, y, 5.0, 40.0)
            return x, y, row
        return x, y, self.nearest(x, y)

    def _house(self) -> tuple[float, float, Address]:
        row = self.rng.choice(self.rows)
        return row.x, row.y, row


def _metric(lon: float, lat: float) -> tuple[float, float]:
    point = to_metric(shapely.Point(lon, lat))
    assert isinstance(point, shapely.Point)
    return point.x, point.y


def _when(rng: random.Random, day: date, source: str, category: str) -> datetime:
    """A moment on that day, by the hours the channel and the category keep, before ANCHOR."""
    hours = list(accumulate(hour_weights(source, category)))
    while True:
        hour = bisect(hours, rng.random() * hours[-1])
        moment = datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                          rng.randrange(60), tzinfo=ANCHOR.tzinfo)
        if moment < ANCHOR:
            return moment


def _reports(rng: random.Random, places: _Places, total: int) -> list[Report]:
    sources = [s for s, _ in SOURCES]
    source_cum = list(accumulate(w for _, w in SOURCES))
    first = ANCHOR.date() - timedelta(days=DAYS - 1)
    days = [first + timedelta(days=k) for k in range(DAYS)]
    day_cum = list(accumulate(0.8 if d.weekday() >= 5 else 1.0 for d in days))
    cache: dict[tuple[str, date], list[float]] = {}
    reports = []
    for _ in range(total):
        source = sources[bisect(source_cum, rng.random() * source_cum[-1])]
        day = days[bisect(day_cum, rng.random() * day_cum[-1])]
        if (source, day) not in cache:
            cache[(source, day)] = list(accumulate(category_weights(source, day)))
        weights = cache[(source, day)]
        category = CATEGORIES[bisect(weights, rng.random() * weights[-1])].code
        x, y, near = places.locate(source, category)
        reports.append(Report(source, category, _when(rng, day, source, category), x, y, near))
    reports.sort(key=lambda r: (r.reported_at, r.source, r.category, r.x, r.y))
    return reports


def _number(rng: random.Random, reports: list[Report], id_prefix: str, county_from: int) -> None:
    """External ids in time order per channel and year (after `id_prefix`); county tickets get
    the county's id (this town's from `county_from` on)."""
    counters: dict[tuple[str, int], int] = {}
    county = county_from + rng.randrange(1000, 3000)
    for report in reports:
        year = report.reported_at.year
        # numbering restarts each year only where the id shows the year
        key = (report.source, year if "{year}" in ID_FORMAT[report.source] else 0)
        counters[key] = counters.get(key, 0) + rng.randint(1, 3)
        report.external_id = id_prefix + ID_FORMAT[report.source].format(year=year,
                                                                          n=counters[key])
        if report.source == "county_ticket":
            county += rng.randint(3, 40)  # the county numbers every town's tickets
            report.parent_ticket_id = f"WJ{year}-{county:06d}"
            report.county_due_at = report.reported_at + timedelta(days=rng.randint(3, 7))


def _coordinates(reports: list[Report]) -> tuple[list[str], list[str]]:
    """Written lon/lat of each report: WGS84, or GCJ-02 for the grid app; empty for addresses."""
    x = np.array([r.x for r in reports])
    y = np.array([r.y for r in reports])
    lon, lat = points_to_lonlat(x, y)
    gcj = np.array([CRS.get(r.source) == "gcj02" for r in reports])
    lon[gcj], lat[gcj] = crs_module.from_storage(lon[gcj], lat[gcj], "gcj02")
    lons, lats = [], []
    for report, a, b in zip(reports, lon.tolist(), lat.tolist(), strict=True):
        placed = report.source not in ADDRESS_ONLY
        lons.append(coord(a) if placed else "")
        lats.append(coord(b) if placed else "")
    return lons, lats


def _reporters(reports: list[Report], patrolled: list[tuple[str, Polygon]]) -> list[str]:
    """Who reported each grid-app report: the worker patrolling the level-3 grid it lies in
    (`patrolled`: (worker code, grid outline in lon/lat)); "" for the other channels."""
    lon, lat = points_to_lonlat(np.array([r.x for r in reports]),
                                np.array([r.y for r in reports]))
    codes = [code for code, _ in patrolled]
    tree = shapely.STRtree([outline for _, outline in patrolled])
    found = dict(zip(*tree.query(shapely.points(lon, lat), predicate="intersects").tolist(),
                     strict=True))
    return [codes[found[i]] if r.source == "grid_patrol" and i in found else ""
            for i, r in enumerate(reports)]


def build_incidents(rng: random.Random, town: Town, rows: list[Address],
                    deadlines: Deadlines, patrolled: list[tuple[str, Polygon]], *,
                    total: int = TOTAL, locale: Locale = QIDU, id_prefix: str = "",
                    county_from: int = 0) -> list[list[str]]:
    """`total` incidents.csv rows (without the header), oldest first; a grid-app report names
    the grid worker who made it (`patrolled`: (worker code, the grid they patrol)). External
    ids start with `id_prefix`; the county numbers this town's tickets from `county_from`."""
    places = _Places(rng, town, rows, locale)
    reports = _reports(rng, places, total)
    _number(rng, reports, id_prefix, county_from)
    lons, lats = _coordinates(reports)
    reporters = _reporters(reports, patrolled)
    hours = {c.code: c for c in CATEGORIES}
    out = []
    still_open = overdue = 0
    for report, lon, lat, reporter in zip(reports, lons, lats, reporters, strict=True):
        due = deadlines.due(report.category, report.x, report.y, report.reported_at,
                            report.county_due_at)
        closure: Closure = close(rng, hours[report.category], report.reported_at, due)
        if closure.closed_at is None:
            still_open += 1
            overdue += due < ANCHOR
        address = spoken(rng, report.near, locale.prefix) if report.source in ADDRESS_ONLY else ""
        out.append([
            report.source, report.external_id, report.category,
            describe(rng, report.category, report.source), address, lon, lat,
            CRS.get(report.source, "") if lon else "", iso(report.reported_at),
            report.parent_ticket_id, iso(report.county_due_at) if report.county_due_at else "",
            iso(closure.closed_at) if closure.closed_at else "", closure.resolution,
            str(closure.satisfaction) if closure.satisfaction else "", reporter])
    low, high = OVERDUE_SHARE
    if not still_open or not low <= overdue / still_open <= high:
        raise SystemExit(f"{overdue} of {still_open} open reports are overdue when the history "
                         f"ends: a town center keeps between {low:.0%} and {high:.0%} overdue")
    return out
