"""The SQL of the tiles: map layers from `sql/*.sql`, incidents built with SQLAlchemy Core so
that the caller's scope condition (`incidents.scope.visible`) joins them unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    TextClause,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, CollectionAggregate, Grouping
from sqlalchemy.sql.visitors import replacement_traverse

from gis_service import sql_files
from gis_service.incidents.core.deadlines import deadline_colour
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.models import Incident
from gis_service.tiles.models import (
    AREA_CODES,
    HANDLER_CODES,
    incident_cell,
    incident_cell_delta,
    incident_handler_cell,
)
from gis_service.tiles.tiling import (
    BUFFER,
    EXTENT,
    DayRange,
    Tile,
    TimeRange,
    Window,
    bins_of,
)

SQL = Path(__file__).resolve().parent / "sql"
LAYERS = ("grids", "districts", "zones", "projects", "stations", "cameras")
LAYER_SQL: dict[str, TextClause] = {
    name: sql_files.load(SQL, name) for name in LAYERS}
LAYER_STAMPS = sql_files.load(SQL, "layer_stamps")
OPEN = sorted(OPEN_STATES)
WORLD = 20037508.342789244  # half the Web-Mercator world's side, metres
TEXT_CODES = frozenset(AREA_CODES + HANDLER_CODES) - {"cooperating"}
AGGREGATES = (incident_cell, incident_handler_cell)  # by area first: the smaller one


def layer_params(tile: Tile, now: datetime) -> dict[str, Any]:
    """The bound parameters of a layer's tile SQL."""
    return {"z": tile.z, "x": tile.x, "y": tile.y, "extent": EXTENT, "buffer": BUFFER,
            "margin": BUFFER / EXTENT, "now": now}


@dataclass(frozen=True)
class IncidentFilters:
    """What an incident tile shows: statuses (any when empty), a category, a report window."""

    statuses: tuple[str, ...] = ()
    category: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class NotOnCells(Exception):
    """A condition names an incident column the aggregate does not keep."""


def on_cells(condition: ColumnElement[bool], table: Table) -> ColumnElement[bool]:
    """`condition` on incident columns, restated on an aggregate's columns (a code '' read as
    NULL, so it means the same); NotOnCells when it needs a column the aggregate lacks."""
    def swap(element: Any, **_: Any) -> Any:
        if isinstance(element, Column) and element.table is Incident.__table__:
            if element.name not in table.c:
                raise NotOnCells(element.name)
            column = table.c[element.name]
            return func.nullif(column, "") if element.name in TEXT_CODES else column
        any_equal = _any_equal(element)
        if any_equal is not None:
            # `codes @> ARRAY[value]` for `value = ANY(codes)`: the same on the aggregate's
            # code arrays (never NULL, no NULL in them), and a GIN index can answer it
            # (migration 0013)
            codes, value = any_equal
            return swap(codes).contains(cast(array([value]), ARRAY(String(64))))
        return None

    return replacement_traverse(condition, {}, swap)


def _any_equal(element: Any) -> tuple[Column[Any], ColumnElement[Any]] | None:
    """The array column and the value of `value = ANY(column)`, else None."""
    if not (isinstance(element, BinaryExpression) and element.operator is operators.eq):
        return None
    value, aggregate = element.left, element.right
    if not (isinstance(aggregate, CollectionAggregate)
            and aggregate.operator is operators.any_op):
        return None
    inner: Any = aggregate.element
    while isinstance(inner, Grouping):
        inner = inner.element
    return (inner, value) if isinstance(inner, Column) else None


def _tile_envelope(tile: Tile, margin: float = 0.0) -> ColumnElement[Any]:
    world = func.ST_MakeEnvelope(-WORLD, -WORLD, WORLD, WORLD, 3857)
    return func.ST_TileEnvelope(tile.z, tile.x, tile.y, world, margin)


def _in_tile(tile: Tile, margin: float = 0.0) -> ColumnElement[bool]:
    """Incidents whose point's box meets the tile: an index condition on the storage CRS."""
    box = func.ST_Transform(_tile_envelope(tile, margin), 4490)
    return Incident.geom.op("&&")(box)


def _in_ranges(ranges: tuple[TimeRange, ...]) -> ColumnElement[bool]:
    parts = []
    for start, end in ranges:
        bounds: list[ColumnElement[bool]] = [true()]
        if start is not None:
            bounds.append(Incident.reported_at >= start)
        if end is not None:
            bounds.append(Incident.reported_at < end)
        parts.append(and_(*bounds))
    return or_(*parts)


def _incident_filters(filters: IncidentFilters) -> list[ColumnElement[bool]]:
    wanted: list[ColumnElement[bool]] = []
    if filters.statuses:
        wanted.append(Incident.status.in_(filters.statuses))
    if filters.category is not None:
        wanted.append(Incident.category_code == filters.category)
    return wanted


def incident_points(tile: Tile, scope: ColumnElement[bool], filters: IncidentFilters,
                    now: datetime, yellow_share: float) -> Select[bytes]:
    """One feature per incident (its id the feature id) with status, category, priority,
    deadline colour and reported_at (epoch seconds)."""
    # the 4326 reading of 4490: see sql/grids.sql
    point = func.ST_Transform(func.ST_SetSRID(Incident.geom, 4326), 3857)
    rows = select(
        Incident.id, Incident.status, Incident.category_code.label("category"),
        Incident.priority, deadline_colour(now, yellow_share).label("deadline"),
        cast(func.floor(func.date_part("epoch", Incident.reported_at)), BigInteger)
        .label("reported_at"),
        func.ST_AsMVTGeom(point, _tile_envelope(tile), EXTENT, BUFFER, True).label("geom"),
    ).where(_in_tile(tile, BUFFER / EXTENT), scope, *_incident_filters(filters),
            _in_ranges(((filters.since, filters.until),))).subquery("tile")
    return select(func.ST_AsMVT(rows.table_valued(), "incidents", EXTENT, "geom", "id"))


def _counted_cells(table: Table, scope: ColumnElement[bool], tile: Tile,
                   filters: IncidentFilters, days: DayRange,
                   month: bool | None = None) -> Select[Any]:
    """Rows of the aggregate (its month or day rows; the delta has day rows only) in the
    tile for the scope, the statuses and the days [first, end)."""
    bins = bins_of(tile)
    wanted: list[ColumnElement[bool]] = [on_cells(scope, table),
                                         table.c.cx.between(*bins.cells_x),
                                         table.c.cy.between(*bins.cells_y)]
    if month is not None:
        wanted.append(table.c.month == month)
    if filters.statuses:
        wanted.append(table.c.status.in_(filters.statuses))
    if days[0] is not None:
        wanted.append(table.c.day >= days[0])
    if days[1] is not None:
        wanted.append(table.c.day < days[1])
    return select(table.c.cx, table.c.cy, table.c.status, table.c.n).where(*wanted)


def _counted_incidents(scope: ColumnElement[bool], tile: Tile, filters: IncidentFilters,
                       ranges: tuple[TimeRange, ...]) -> Select[Any]:
    bins = bins_of(tile)
    cx = func.incident_cell_x(func.ST_X(Incident.geom))
    cy = func.incident_cell_y(func.ST_Y(Incident.geom))
    return select(cx.label("cx"), cy.label("cy"), Incident.status,
                  literal(1).label("n")).where(
        _in_tile(tile), scope, *_incident_filters(filters), _in_ranges(ranges),
        cx.between(*bins.cells_x), cy.between(*bins.cells_y))


def _from_cells(tile: Tile, scope: ColumnElement[bool], filters: IncidentFilters,
                window: Window) -> list[Select[Any]]:
    """The whole days' counts: the unfolded delta, whole months from month rows and other
    days from day rows of the first aggregate that can state the scope; none when no
    aggregate can answer (no whole day in the window, a category filter, the scope)."""
    if not window.cells or filters.category is not None:
        return []
    for table in AGGREGATES:
        try:
            parts = [_counted_cells(incident_cell_delta, scope, tile, filters, window.days)]
            if window.months is not None:
                parts.append(_counted_cells(table, scope, tile, filters, window.months,
                                            month=True))
            parts += [_counted_cells(table, scope, tile, filters, days, month=False)
                      for days in window.single_days]
        except NotOnCells:
            continue
        return parts
    return []


def incident_bins(tile: Tile, scope: ColumnElement[bool], filters: IncidentFilters,
                  window: Window) -> Select[bytes]:
    """One point per bin of an aggregated tile with `count`, `open` and `done`: whole days
    from the aggregate, the rest counted from the incidents (see cells.py)."""
    parts = _from_cells(tile, scope, filters, window)
    raw = window.raw if parts else ((filters.since, filters.until),)
    if raw:
        parts.append(_counted_incidents(scope, tile, filters, raw))
    return _bins_tile(tile, union_all(*parts).subquery("counted"))


def _bins_tile(tile: Tile, counted: FromClause) -> Select[bytes]:
    bins = bins_of(tile)
    bx = (counted.c.cx.op(">>", return_type=Integer)(bins.shift) - bins.first_x).label("bx")
    by = (counted.c.cy.op(">>", return_type=Integer)(bins.shift) - bins.first_y).label("by")
    binned = select(bx, by, counted.c.status, counted.c.n).subquery("binned")
    n, is_open = binned.c.n, binned.c.status.in_(OPEN)
    rows = select(
        func.sum(n).label("count"),
        func.coalesce(func.sum(n).filter(is_open), 0).label("open"),
        func.coalesce(func.sum(n).filter(~is_open), 0).label("done"),
        func.ST_Point((binned.c.bx + 0.5) * bins.size, (binned.c.by + 0.5) * bins.size)
        .label("geom"),
    ).group_by(binned.c.bx, binned.c.by).having(func.sum(n) > 0).subquery("tile")
    return select(func.ST_AsMVT(rows.table_valued(), "incidents", EXTENT, "geom"))
