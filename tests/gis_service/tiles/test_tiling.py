"""Tile arithmetic without a database: tile addresses, bins, and splitting a report window
into whole China days and the partial days around them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gis_service.errors import InvalidInputError
from gis_service.tiles.tiling import (
    AGGREGATED_MAX_ZOOM,
    Tile,
    bins_of,
    cell_of,
    counted_per_bin,
    day_start,
    split_window,
    tile_of,
)
from gis_service.timeutil import CHINA_TIME


def cst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CHINA_TIME)


@pytest.mark.parametrize(("z", "x", "y"), [(-1, 0, 0), (23, 0, 0), (0, 1, 0), (3, 0, 8),
                                           (1, -1, 0)])
def test_tiles_outside_the_matrix_are_refused(z: int, x: int, y: int) -> None:
    with pytest.raises(InvalidInputError):
        Tile.checked(z, x, y)


def test_incidents_are_counted_up_to_zoom_11_and_up_to_13_for_long_windows() -> None:
    now = cst(2026, 11, 22, 12)
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    assert AGGREGATED_MAX_ZOOM == 11
    for z in range(12):
        assert counted_per_bin(Tile(z, 0, 0), week, None, now)
    for z in (12, 13):
        assert not counted_per_bin(Tile(z, 0, 0), week, None, now)
        assert not counted_per_bin(Tile(z, 0, 0), month, month + timedelta(days=7), now)
        assert not counted_per_bin(Tile(z, 0, 0), week - timedelta(minutes=5), None, now)
        assert counted_per_bin(Tile(z, 0, 0), week - timedelta(hours=2), None, now)
        assert counted_per_bin(Tile(z, 0, 0), month, None, now)
        assert counted_per_bin(Tile(z, 0, 0), None, None, now)
        assert counted_per_bin(Tile(z, 0, 0), None, week, now)
    for z in (14, 16, 22):
        assert not counted_per_bin(Tile(z, 0, 0), None, None, now)


@pytest.mark.parametrize(("z", "side"), [(0, 32), (8, 32), (11, 32), (12, 16), (13, 8)])
def test_every_cell_of_a_tile_falls_in_one_of_its_bins(z: int, side: int) -> None:
    lon, lat = 120.4123, 30.9087
    tile = Tile(z, *tile_of(lon, lat, z))
    bins = bins_of(tile)
    cx, cy = cell_of(lon, lat)
    assert bins.cells_x[0] <= cx <= bins.cells_x[1]
    assert bins.cells_y[0] <= cy <= bins.cells_y[1]
    assert 0 <= (cx >> bins.shift) - bins.first_x < side
    assert 0 <= (cy >> bins.shift) - bins.first_y < side
    assert bins.size * side == 4096
    # the tile's first and last cells fall in its first and last bins
    assert (bins.cells_x[0] >> bins.shift) - bins.first_x == 0
    assert (bins.cells_x[1] >> bins.shift) - bins.first_x == side - 1


def test_no_window_reads_every_month_of_the_aggregate() -> None:
    window = split_window(None, None)
    assert window.cells and window.days == (None, None) and window.months == (None, None)
    assert window.single_days == () and window.raw == ()


def test_whole_days_inside_a_month_come_from_day_rows() -> None:
    window = split_window(cst(2026, 11, 2), cst(2026, 11, 8))
    assert window.days == (date(2026, 11, 2), date(2026, 11, 8)) and window.months is None
    assert window.single_days == ((date(2026, 11, 2), date(2026, 11, 8)),)
    assert window.raw == ()


def test_whole_months_come_from_month_rows_and_the_days_around_them_from_day_rows() -> None:
    window = split_window(cst(2026, 9, 20), cst(2026, 11, 8))
    assert window.months == (date(2026, 10, 1), date(2026, 11, 1))
    assert window.single_days == ((date(2026, 9, 20), date(2026, 10, 1)),
                                  (date(2026, 11, 1), date(2026, 11, 8)))
    open_ended = split_window(cst(2025, 12, 15), None)
    assert open_ended.months == (date(2026, 1, 1), None)
    assert open_ended.single_days == ((date(2025, 12, 15), date(2026, 1, 1)),)
    assert split_window(None, cst(2026, 3, 1)).months == (None, date(2026, 3, 1))


def test_partial_days_at_either_end_are_counted_from_incidents() -> None:
    since, until = cst(2026, 11, 1, 10, 30), cst(2026, 11, 8, 6)
    window = split_window(since, until)
    assert window.days == (date(2026, 11, 2), date(2026, 11, 8))
    assert window.raw == ((since, cst(2026, 11, 2)), (cst(2026, 11, 8), until))


def test_days_are_china_days() -> None:
    since = datetime.fromisoformat("2026-11-01T16:00:00+00:00")  # midnight in China
    window = split_window(since, None)
    assert window.days == (date(2026, 11, 2), None) and window.raw == ()
    assert day_start(date(2026, 11, 2)) == since


def test_a_window_without_a_whole_day_is_counted_from_incidents() -> None:
    since, until = cst(2026, 11, 1, 10), cst(2026, 11, 2, 9)
    window = split_window(since, until)
    assert not window.cells and window.raw == ((since, until),)


def test_a_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(InvalidInputError):
        split_window(cst(2026, 11, 2), cst(2026, 11, 2) - timedelta(seconds=1))
