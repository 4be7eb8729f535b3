"""Query parameters of the items requests, checked as OGC API – Features asks: a parameter the
API does not define, or a value that cannot be used, is a 400."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gis_service.ogc.collections import Collection, Temporal
from gis_service.ogc.crs import DEFAULT, BadParameterError, Crs, parse_crs
from gis_service.timeutil import aware

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000  # a larger `limit` is served as this many (OGC: not an error)
PAGING = ("limit", "offset", "bbox", "bbox-crs", "crs")

Box = tuple[float, float, float, float]  # west, south, east, north (lon/lat degrees)


@dataclass(frozen=True)
class TimeFilter:
    """An instant (start == end) or an interval; None ends are open."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ItemsQuery:
    """What an items request asks for."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: Crs = DEFAULT
    bbox: Box | None = None
    time: TimeFilter | None = None
    filters: dict[str, str | int] = field(default_factory=dict)


def item_parameters(collection: Collection) -> tuple[str, ...]:
    """The parameters one feature's request takes."""
    return ("crs", "datetime") if collection.temporal is Temporal.VERSIONS else ("crs",)


def items_parameters(collection: Collection) -> tuple[str, ...]:
    """The parameters an items request of the collection takes."""
    timed = ("datetime",) if collection.temporal else ()
    return (*PAGING, *timed, *collection.queryables)


def single_values(params: Sequence[tuple[str, str]],
                  allowed: tuple[str, ...]) -> dict[str, str]:
    """The parameters as a dict; 400 for an unknown one or one given twice."""
    values: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise BadParameterError(f"unknown query parameter {name!r}; this resource takes "
                                    f"{', '.join(allowed)}")
        if name in values:
            raise BadParameterError(f"query parameter {name!r} given more than once")
        values[name] = value
    return values


def parse_items_query(collection: Collection, params: Sequence[tuple[str, str]]) -> ItemsQuery:
    """The items request's parameters, checked."""
    values = single_values(params, items_parameters(collection))
    filters = {name: _typed(name, values[name], q.type)
               for name, q in collection.queryables.items() if name in values}
    return ItemsQuery(
        limit=min(_integer(values, "limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT),
        offset=_integer(values, "offset", 0, minimum=0),
        crs=parse_crs(values.get("crs"), "crs"),
        bbox=parse_bbox(values.get("bbox"), parse_crs(values.get("bbox-crs"), "bbox-crs")),
        time=parse_datetime(values.get("datetime"), collection),
        filters=filters)


def parse_item_query(collection: Collection,
                     params: Sequence[tuple[str, str]]) -> tuple[Crs, TimeFilter | None]:
    """The CRS (and for versioned collections the instant) one feature is asked in."""
    values = single_values(params, item_parameters(collection))
    return parse_crs(values.get("crs"), "crs"), parse_datetime(values.get("datetime"),
                                                                collection)


def _integer(values: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    if name not in values:
        return default
    try:
        number = int(values[name])
    except ValueError as exc:
        raise BadParameterError(f"{name} must be an integer") from exc
    if number < minimum:
        raise BadParameterError(f"{name} must be at least {minimum}")
    return number


def _typed(name: str, value: str, kind: str) -> str | int:
    if kind != "integer":
        return value
    try:
        return int(value)
    except ValueError as exc:
        raise BadParameterError(f"{name} must be an integer") from exc


def parse_bbox(value: str | None, crs: Crs) -> Box | None:
    """`bbox` (4 numbers, or 6 with heights, which are ignored) as lon/lat west, south, east,
    north; in `bbox-crs` axis order."""
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as exc:
        raise BadParameterError("bbox must be 4 (or 6) comma-separated numbers") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise BadParameterError("bbox must be 4 (or 6) comma-separated numbers")
    a, b, c, d = numbers
    west, south, east, north = (b, a, d, c) if crs.lat_first else (a, b, c, d)
    if west > east or south > north:
        raise BadParameterError("bbox must go from the lower to the upper corner (a box "
                                "across the antimeridian is not supported)")
    return west, south, east, north


def parse_datetime(value: str | None, collection: Collection) -> TimeFilter | None:
    """`datetime`: an RFC 3339 instant, or (incidents only) an interval `start/end` with
    `..` or nothing for an open end. A time without a zone is China Standard Time."""
    if value is None:
        return None
    if "/" not in value:
        instant = _moment(value)
        return TimeFilter(instant, instant)
    if collection.temporal is Temporal.VERSIONS:
        raise BadParameterError("grids take an instant as datetime (the versions valid then),"
                                " not an interval")
    start, _, end = value.partition("/")
    if start in ("", "..") and end in ("", ".."):
        return None
    period = TimeFilter(_open_end(start), _open_end(end))
    if period.start and period.end and period.start > period.end:
        raise BadParameterError("datetime interval ends before it starts")
    return period


def _open_end(value: str) -> datetime | None:
    return None if value in ("", "..") else _moment(value)


def _moment(value: str) -> datetime:
    try:
        moment = aware(datetime.fromisoformat(value))
    except ValueError as exc:
        raise BadParameterError(f"datetime {value!r} is not an RFC 3339 time") from exc
    assert moment is not None
    return moment
