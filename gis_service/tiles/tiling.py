"""Tile arithmetic without a database: tile addresses, which incident tiles are counted per
bin, how the aggregate's cells fall into an aggregated tile's bins, and how a reporting-time
window splits into whole China days (read from the aggregate) and the partial days around
them (counted from the incidents)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gis_service.errors import InvalidInputError
from gis_service.timeutil import CHINA_TIME

MAX_ZOOM = 22
EXTENT = 4096  # tile coordinates per side
BUFFER = 64  # tile coordinates kept beyond the edge, so symbols on an edge are not cut
CELL_ZOOM = 16  # the aggregate's cells are the Web-Mercator tiles of this zoom
BIN_BITS = 5  # an aggregated tile shows up to 2^5 × 2^5 bins
AGGREGATED_MAX_ZOOM = CELL_ZOOM - BIN_BITS  # 11: incidents are counted per bin up to here
# ... and up to here too when the report window is longer than POINT_WINDOW (or has no
# start): a z12 tile of the town holds ~37,000 incidents of 30 days out of 1,000,000 a year,
# too many to encode in 50 ms or to tell apart on a map (BENCHMARKS.md, "Vector tiles")
LONG_WINDOW_MAX_ZOOM = 13
# a week as a client counts it (`now − 7 days` on its clock), with room for that clock and
# the request's way here
POINT_WINDOW = timedelta(days=7, hours=1)


@dataclass(frozen=True)
class Tile:
    """A tile of the Web-Mercator (XYZ) tile matrix."""

    z: int
    x: int
    y: int

    @classmethod
    def checked(cls, z: int, x: int, y: int) -> Tile:
        """The tile; InvalidInputError when it is not in the matrix."""
        if not 0 <= z <= MAX_ZOOM:
            raise InvalidInputError(f"z must be 0–{MAX_ZOOM}")
        if not (0 <= x < 2**z and 0 <= y < 2**z):
            raise InvalidInputError(f"x and y must be 0–{2**z - 1} at zoom {z}")
        return cls(z, x, y)


def counted_per_bin(tile: Tile, since: datetime | None, until: datetime | None,
                    now: datetime) -> bool:
    """Whether a tile shows incidents reported in [since, until) as counts per bin rather
    than as points: always up to z11, up to z13 for a window longer than a week."""
    if tile.z <= AGGREGATED_MAX_ZOOM:
        return True
    if tile.z > LONG_WINDOW_MAX_ZOOM:
        return False
    return since is None or (until or now) - since > POINT_WINDOW


@dataclass(frozen=True)
class Bins:
    """The cells of an aggregated tile and the bin each falls in: bin = (cell >> shift) −
    first, 0 ≤ bin < 2^BIN_BITS on each axis (up to z11; from z12 a bin is one cell, so
    a z12 tile has 16 × 16 bins, a z13 tile 8 × 8)."""

    shift: int
    first_x: int
    first_y: int
    cells_x: tuple[int, int]  # first and last cell column (inclusive)
    cells_y: tuple[int, int]
    size: float  # a bin's side in tile coordinates


def bins_of(tile: Tile) -> Bins:
    """How the zoom-16 cells inside an aggregated tile (z ≤ 16) fold into its bins."""
    span = CELL_ZOOM - tile.z  # a tile is 2^span cells wide
    bits = min(BIN_BITS, span)  # a tile is 2^bits bins wide: a bin is never below a cell
    return Bins(shift=span - bits, first_x=tile.x << bits, first_y=tile.y << bits,
                cells_x=(tile.x << span, ((tile.x + 1) << span) - 1),
                cells_y=(tile.y << span, ((tile.y + 1) << span) - 1),
                size=EXTENT / 2**bits)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """x and y of the zoom-z tile a point lies in."""
    n = 2**z
    rad = math.radians(lat)
    x = math.floor((lon + 180.0) / 360.0 * n)
    y = math.floor((1.0 - math.log(math.tan(rad) + 1.0 / math.cos(rad)) / math.pi) / 2.0 * n)
    return x, y


def cell_of(lon: float, lat: float) -> tuple[int, int]:
    """The cell of a point (the twin of SQL incident_cell_x / incident_cell_y)."""
    return tile_of(lon, lat, CELL_ZOOM)


def china_day(moment: datetime) -> date:
    """The China (UTC+8) calendar day of a moment (the twin of SQL incident_cell_day)."""
    return moment.astimezone(CHINA_TIME).date()


def day_start(day: date) -> datetime:
    """Midnight China time at the start of `day`."""
    return datetime.combine(day, time(), CHINA_TIME)


TimeRange = tuple[datetime | None, datetime | None]  # [from, to); None = unbounded
DayRange = tuple[date | None, date | None]  # [first, end) in China days; None = unbounded


@dataclass(frozen=True)
class Window:
    """Reports in [since, until): the whole days in it (`days`; none when `cells` is False),
    read from the aggregate's month rows where whole months fit (`months`) and from its day
    rows elsewhere (`single_days`), plus the partial days, counted one by one (`raw`)."""

    cells: bool
    days: DayRange
    months: DayRange | None
    single_days: tuple[DayRange, ...]
    raw: tuple[TimeRange, ...]


def split_window(since: datetime | None, until: datetime | None) -> Window:
    """The whole China days inside [since, until), its whole months, and the partial days at
    its ends."""
    if since is not None and until is not None and since >= until:
        raise InvalidInputError("since must be before until")
    raw: list[TimeRange] = []
    first_day = end_day = None
    if since is not None:
        first_day = china_day(since)
        if since > day_start(first_day):  # a partial first day
            first_day += timedelta(days=1)
            raw.append((since, day_start(first_day)))
    if until is not None:
        end_day = china_day(until)
        if until > day_start(end_day):  # a partial last day
            raw.append((day_start(end_day), until))
    if first_day is not None and end_day is not None and first_day >= end_day:
        return Window(False, (None, None), None, (), ((since, until),))  # no whole day
    months, single_days = _months(first_day, end_day)
    return Window(True, (first_day, end_day), months, single_days, tuple(raw))


def _months(first_day: date | None, end_day: date | None) -> tuple[DayRange | None,
                                                                   tuple[DayRange, ...]]:
    """The whole months in [first_day, end_day) and the days outside them."""
    month_from = first_day if first_day is None or first_day.day == 1 else _next_month(
        first_day)
    month_to = None if end_day is None else end_day.replace(day=1)
    if month_from is not None and month_to is not None and month_from >= month_to:
        return None, ((first_day, end_day),)
    single = []
    if first_day is not None and month_from is not None and first_day < month_from:
        single.append((first_day, month_from))
    if end_day is not None and month_to is not None and month_to < end_day:
        single.append((month_to, end_day))
    return (month_from, month_to), tuple(single)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
