"""Level 0, the county above its towns: towns name it as their parent and tile it exactly, as
every other level tiles its parent; a set without a county validates as before."""

from __future__ import annotations

import dataclasses

from grid_layers.repair import repair_hierarchy
from grid_layers.validation import GridRecord, validate_hierarchy
from tests.grid_layers.test_validation import CLEAN, grid, rect

# the clean town "1" (0..2000 × 0..1000 m) and a second town "T2" beside it, under county "C"
COUNTY = grid("C", 0, None, rect(0, 0, 3000, 1000))
SECOND_TOWN = [grid("T2", 1, "C", rect(2000, 0, 3000, 1000)),
               grid("T2-1", 2, "T2", rect(2000, 0, 3000, 1000)),
               grid("T2-1-1", 3, "T2-1", rect(2000, 0, 3000, 1000))]


def county(*extra: GridRecord, town_parent: str | None = "C",
           county_grid: GridRecord = COUNTY) -> list[GridRecord]:
    """The clean town under the county, beside a second town."""
    town = [dataclasses.replace(g, parent_code=town_parent) if g.code == "1" else g
            for g in CLEAN]
    return [county_grid, *town, *SECOND_TOWN, *extra]


def test_towns_tiling_their_county_are_clean() -> None:
    assert validate_hierarchy(county()) == []


def test_a_town_with_no_county_above_it_is_clean() -> None:
    assert validate_hierarchy(CLEAN) == []


def test_county_not_covered_by_its_towns_is_a_gap() -> None:
    wider = dataclasses.replace(COUNTY, geometry=rect(0, 0, 3500, 1000))
    problems = validate_hierarchy(county(county_grid=wider))
    # the county's gap, named with the town beside it
    assert [(p.type, p.grids) for p in problems] == [("gap", ("C", "T2"))]
    assert abs(problems[0].area_m2 - 500 * 1000) / (500 * 1000) < 2e-3
    assert "一级网格（镇）" in problems[0].message


def test_a_town_outside_its_county() -> None:
    smaller = dataclasses.replace(COUNTY, geometry=rect(0, 0, 2800, 1000))
    types = [(p.type, p.grids) for p in validate_hierarchy(county(county_grid=smaller))]
    assert ("outside_parent", ("C", "T2")) in types


def test_a_county_names_no_parent_and_a_town_names_a_county() -> None:
    child = dataclasses.replace(COUNTY, parent_code="1")
    problems = validate_hierarchy(county(county_grid=child))
    orphans = [p for p in problems if p.type == "orphan"]
    assert [p.grids for p in orphans] == [("1", "C")]
    assert orphans[0].message.startswith("县级网格 C 不应有上级")
    # a town under a level-2 grid is refused, naming what it needs
    wrong = [dataclasses.replace(g, parent_code="T2-1") if g.code == "1" else g
             for g in county()]
    orphan = next(p for p in validate_hierarchy(wrong) if p.type == "orphan")
    assert "不是县级网格" in orphan.message


def test_a_special_grid_may_belong_to_the_county() -> None:
    corridor = grid("R-1", None, "C", rect(1500, 400, 2500, 600), kind="environment")
    assert validate_hierarchy(county(corridor)) == []
    poking = grid("R-2", None, "C", rect(2500, 400, 3200, 600), kind="environment")
    assert [(p.type, p.grids) for p in validate_hierarchy(county(poking))] == \
        [("outside_parent", ("C", "R-2"))]


def test_two_counties_may_not_overlap() -> None:
    other = grid("C2", 0, None, rect(2900, 0, 4000, 1000))
    types = [(p.type, p.grids) for p in validate_hierarchy(county(other))]
    assert ("overlap", ("C", "C2")) in types


def test_repair_keeps_the_county_outline_and_fits_its_towns() -> None:
    # the second town drawn 0.3 m short of the county's edge: a sliver of a gap, repairable
    short = [dataclasses.replace(g, geometry=rect(2000, 0, 2999.7, 1000))
             if g.code in ("T2", "T2-1", "T2-1-1") else g for g in county()]
    assert [(p.type, p.grids) for p in validate_hierarchy(short)] == [("sliver", ("C", "T2"))]
    outcome = repair_hierarchy(short, 0.5)
    assert validate_hierarchy(list(outcome.records)) == []
    fixed = {r.code: r.geometry for r in outcome.records}
    assert fixed["C"].equals(COUNTY.geometry)  # the top outline never moves
