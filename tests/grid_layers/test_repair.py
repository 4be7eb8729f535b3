"""Repairing boundary files within a tolerance (grid_layers.repair), on the demo town's 90 grids
written as real tools write them: cut to 6 or 5 decimals, every grid digitised again on its own,
a special grid poking out of the town; and a real 30 m gap, which must stay a defect.

What a repaired set must be: valid with no problem, nested exactly (children tile their parent to
within 0.05 m², no overlaps), every vertex of a repaired boundary within the tolerance of the
file's boundary, and every point 1.5 m or more from a boundary in the same grids as in the exact
file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from bench.boundary_noise import poking_special, redigitised, rounded, with_gap
from gis_service.demo import DEMO_DIR
from grid_layers.metric import Metric, objects, square_metres_per_square_degree
from grid_layers.repair import REPAIR_KINDS, RepairOutcome, repair_hierarchy
from grid_layers.validation import GridRecord, validate_hierarchy


def demo_grids(path: Path = DEMO_DIR / "grids.geojson") -> list[GridRecord]:
    """The demo town's grids, exact."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [GridRecord(f["properties"]["code"], f["properties"]["name"],
                       f["properties"]["kind"], f["properties"]["level"],
                       f["properties"].get("parent_code"), shape(f["geometry"]))
            for f in features]


EXACT = demo_grids()


def metric_for(grids: Sequence[GridRecord]) -> Metric:
    """The metre measure for these grids."""
    return Metric(objects([g.geometry for g in grids]))


def assert_nested_exactly(grids: Sequence[GridRecord]) -> None:
    """Children tile their parent to within 0.05 m² and do not overlap (the pieces between
    them measured, not whole shapes: those differ by m² along long edges)."""

    def area(geometry: BaseGeometry) -> float:
        # as the validator measures pieces: lon/lat area at the ellipsoid's scale (projected
        # vertex by vertex, a zero-width T-junction triangle measures ~1 m²)
        if geometry.is_empty:
            return 0.0
        lat = np.array([(geometry.bounds[1] + geometry.bounds[3]) / 2.0])
        return float(geometry.area * square_metres_per_square_degree(lat)[0])

    families = 0
    for parent in grids:
        children = objects([g.geometry for g in grids
                            if g.parent_code == parent.code and g.kind == "comprehensive"])
        if not len(children):
            continue
        families += 1
        union = shapely.union_all(children)
        assert area(shapely.difference(parent.geometry, union)) <= 0.05, parent.code
        # child by child: GEOS's union of near-coincident thin bits can add a sliver of its own
        outside = shapely.difference(children, parent.geometry)
        assert sum(area(x) for x in outside) <= 0.05, parent.code
        a, b = shapely.STRtree(children).query(children, predicate="intersects")
        both = shapely.intersection(children[a[a < b]], children[b[a < b]])
        assert sum(area(x) for x in both) <= 0.05, parent.code
    assert families == 19


def assert_within(repaired: Sequence[GridRecord], given: Sequence[GridRecord],
                  tolerance: float) -> None:
    """Every vertex of a repaired boundary lies within the tolerance of the file's lines."""
    metric = metric_for(given)
    lines = metric.project(objects([shapely.union_all(objects(
        [shapely.boundary(g.geometry) for g in given]))]))[0]
    shapely.prepare(lines)
    for grid in repaired:
        points = metric.project(shapely.points(shapely.get_coordinates(grid.geometry)))
        assert float(shapely.distance(points, lines).max()) <= tolerance + 1e-6, grid.code


def assert_locates_alike(repaired: Sequence[GridRecord], n: int = 4000) -> None:
    """Random points 1.5 m or more from every boundary fall in the same grids as in the exact
    town, level by level and for special grids."""
    metric = metric_for(EXACT)
    town = next(g for g in EXACT if g.level == 1).geometry
    x0, y0, x1, y1 = town.bounds
    rng = np.random.default_rng(5)
    points = shapely.points(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))
    edges = metric.project(objects([shapely.union_all(objects(
        [shapely.boundary(g.geometry) for g in EXACT]))]))[0]
    clear = shapely.distance(metric.project(points), edges) >= 1.5
    points = points[clear]
    for level in (1, 2, 3, None):
        exact = [g for g in EXACT if g.level == level]
        ours = {g.code: g for g in repaired}
        for grid in exact:
            before = shapely.contains(grid.geometry, points)
            after = shapely.contains(ours[grid.code].geometry, points)
            assert (before == after).all(), grid.code
    assert clear.sum() > n // 2


def check_repaired(outcome: RepairOutcome, given: Sequence[GridRecord],
                   tolerance: float) -> None:
    """Everything a repaired set must be."""
    repaired = list(outcome.records)
    assert validate_hierarchy(repaired) == []
    assert_nested_exactly(repaired)
    assert_within(repaired, given, tolerance)
    assert_locates_alike(repaired)


def kinds(outcome: RepairOutcome) -> set[str]:
    """The kinds of repair made."""
    return {r.kind for r in outcome.repairs}


def test_the_exact_town_needs_no_repair_and_keeps_every_ring() -> None:
    outcome = repair_hierarchy(EXACT)
    assert outcome.repairs == ()
    assert all(a is b for a, b in zip(outcome.records, EXACT, strict=True))


def test_six_decimals_is_repaired() -> None:
    given = rounded(EXACT, 6)
    assert validate_hierarchy(given)  # refused as it is
    outcome = repair_hierarchy(given)
    check_repaired(outcome, given, 0.5)
    assert {"made_valid", "snapped", "clipped_to_parent"} <= kinds(outcome)


def test_five_decimals_is_repaired_with_a_metre_and_left_with_half_a_metre() -> None:
    given = rounded(EXACT, 5)
    outcome = repair_hierarchy(given, tolerance_m=1.0)
    check_repaired(outcome, given, 1.0)
    # cutting to 1e-5° moves a vertex up to 0.55 m north-south: more than half a metre can
    # repair everywhere, and what it cannot stays a problem rather than being moved anyway
    left = validate_hierarchy(list(repair_hierarchy(given, tolerance_m=0.5).records))
    assert 0 < len(left) < len(validate_hierarchy(given))
    assert_within(list(repair_hierarchy(given, tolerance_m=0.5).records), given, 0.5)


def test_digitised_twice_is_repaired() -> None:
    given = redigitised(EXACT, 0.25, seed=3)
    before = validate_hierarchy(given)
    assert len(before) > 100
    outcome = repair_hierarchy(given)
    check_repaired(outcome, given, 0.5)
    assert {"snapped", "gap_closed", "overlap_resolved", "clipped_to_parent"} <= kinds(outcome)
    line = next(r for r in outcome.repairs if r.kind == "overlap_resolved")
    assert len(line.grids) == 2 and line.area_m2 > 0.0 and 0.0 < line.shift_m <= 0.5
    assert line.location is not None and line.pieces >= 1
    assert "重叠" in line.message


def test_digitised_twice_and_cut_to_six_decimals() -> None:
    given = rounded(redigitised(EXACT, 0.25, seed=8), 6)
    check_repaired(repair_hierarchy(given), given, 0.5)


def test_a_special_grid_poking_out_is_clipped_to_its_town() -> None:
    given = poking_special(EXACT, "QD-01", "S-POKE", 0.3)
    problems = validate_hierarchy(given)
    assert [p.type for p in problems] == ["sliver"] and "S-POKE" in problems[0].grids
    outcome = repair_hierarchy(given)
    assert validate_hierarchy(list(outcome.records)) == []
    (line,) = outcome.repairs
    assert line.kind == "clipped_to_parent" and line.grids == ("QD", "S-POKE")
    assert 0.25 <= line.shift_m <= 0.31 and line.area_m2 > 100.0
    town = next(g for g in outcome.records if g.code == "QD").geometry
    poke = next(g for g in outcome.records if g.code == "S-POKE").geometry
    assert shapely.area(shapely.difference(poke, town)) < 1e-12  # under 0.01 m²


def test_a_thirty_metre_gap_stays_a_defect() -> None:
    given = with_gap(rounded(EXACT, 6), "QD-05-02", 30.0)
    outcome = repair_hierarchy(given)
    left = validate_hierarchy(list(outcome.records))
    gaps = [p for p in left if p.type == "gap"]
    assert gaps and gaps[0].area_m2 > 10_000.0 and "QD-05" in gaps[0].grids
    assert "sliver" not in {p.type for p in left}
    shrunk = next(g for g in outcome.records if g.code == "QD-05-02").geometry
    assert shapely.area(shrunk) < shapely.area(
        next(g for g in EXACT if g.code == "QD-05-02").geometry)


def test_grids_already_stored_keep_their_shape() -> None:
    # the town and its villages are stored; a file of the level-3 grids, digitised again
    level3 = {g.code for g in EXACT if g.level == 3}
    jittered = {g.code: g for g in redigitised(EXACT, 0.25, seed=4)}
    given = [jittered[g.code] if g.code in level3 else g for g in EXACT]
    outcome = repair_hierarchy(given, fixed={g.code for g in given if g.code not in level3})
    for before, after in zip(given, outcome.records, strict=True):
        if before.code not in level3:
            assert after.geometry is before.geometry
    check_repaired(outcome, given, 0.5)


def test_a_vertex_further_than_the_tolerance_is_not_moved() -> None:
    # one grid pushed 2 m into its neighbour: beyond the tolerance, so its family is left
    moved = [replace(g, geometry=shapely.affinity.translate(g.geometry, 2.0 / 95_400.0))
             if g.code == "QD-05-02" else g for g in EXACT]
    outcome = repair_hierarchy(moved)
    family = {g.code for g in EXACT if g.parent_code == "QD-05"}
    for before, after in zip(moved, outcome.records, strict=True):
        if before.code in family:
            assert after.geometry is before.geometry
    assert any(p.type == "overlap" for p in validate_hierarchy(list(outcome.records)))


def test_repair_kinds_and_tolerance_limits() -> None:
    assert REPAIR_KINDS == ("made_valid", "snapped", "gap_closed", "overlap_resolved",
                            "clipped_to_parent")
    for bad in (0.0, -1.0, 50.0):
        with pytest.raises(ValueError, match="tolerance"):
            repair_hierarchy(EXACT, tolerance_m=bad)
