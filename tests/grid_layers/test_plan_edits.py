"""The geometry of plan edits on the hand-drawn test town: each edit leaves the hierarchy clean
(validate_hierarchy finds nothing), and what cannot be done cleanly is refused."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from grid_layers.plan_edits import (
    NODE_TOLERANCE_M,
    EditError,
    area_m2,
    degrees,
    merge,
    move_piece,
    node,
    snap_to_neighbours,
    solid_parts,
    split,
    transfer,
)
from grid_layers.validation import GridRecord, validate_hierarchy

X0, X1, X2 = 120.40, 120.41, 120.42
Y0, Y1, Y2 = 30.90, 30.91, 30.92
M = degrees(1.0, Y1)  # one metre east-west, in degrees


def town() -> dict[str, BaseGeometry]:
    """The test town's comprehensive grids by code."""
    return {
        "T": box(X0, Y0, X2, Y2), "T-A": box(X0, Y0, X1, Y2), "T-B": box(X1, Y0, X2, Y2),
        "T-A-1": box(X0, Y0, X1, Y1), "T-A-2": box(X0, Y1, X1, Y2),
        "T-B-1": box(X1, Y0, X2, Y1), "T-B-2": box(X1, Y1, X2, Y2),
    }


PARENTS = {"T": None, "T-A": "T", "T-B": "T", "T-A-1": "T-A", "T-A-2": "T-A",
           "T-B-1": "T-B", "T-B-2": "T-B"}


def problems(shapes: dict[str, BaseGeometry], parents: dict[str, str | None],
             decimals: int | None = None) -> list[str]:
    """validate_hierarchy's problems as short strings (coordinates rounded to `decimals`, as a
    file written with that many would hold them)."""
    if decimals is not None:
        shapes = {code: shapely.transform(geom, lambda xy: np.round(xy, decimals))
                  for code, geom in shapes.items()}
    records = [GridRecord(code, code, "comprehensive", code.count("-") + 1, parents[code], geom)
               for code, geom in shapes.items()]
    return [f"{p.type} {p.grids} {p.area_m2:.2f}" for p in validate_hierarchy(records)]


def test_the_town_is_clean() -> None:
    assert problems(town(), PARENTS) == []


def test_an_edge_moved_by_a_hand_jitter_snaps_back_exactly() -> None:
    shapes = town()
    moved = box(X0, Y0, X1 + 0.3 * M, Y1)  # the shared east edge dragged 0.3 m
    assert problems({**shapes, "T-A-1": moved}, PARENTS) != []
    snapped = snap_to_neighbours(moved, neighbours=[shapes["T-A-2"]], parent=shapes["T-A"])
    assert shapely.equals(snapped, shapes["T-A-1"])
    assert problems({**shapes, "T-A-1": snapped}, PARENTS) == []


@pytest.mark.parametrize("offset", [0.5, -0.5])
def test_thin_overlaps_are_cut_and_thin_gaps_filled(offset: float) -> None:
    shapes = town()
    # the north edge of T-A-1 moved 0.5 m up (overlapping T-A-2) or down (leaving a gap), with
    # snapping too small to catch it: the sliver rule must close it
    north = Y1 + offset / 111_320.0
    moved = box(X0, Y0, X1, north)
    assert problems({**shapes, "T-A-1": moved}, PARENTS) != []
    snapped = snap_to_neighbours(moved, neighbours=[shapes["T-A-2"]], parent=shapes["T-A"],
                                 tolerance_m=0.1)
    assert problems({**shapes, "T-A-1": snapped}, PARENTS) == []
    assert abs(area_m2(snapped) - area_m2(shapes["T-A-1"])) < 0.05


def test_a_real_redraw_is_kept() -> None:
    shapes = town()
    moved = box(X0, Y0, X1, Y1 + 20 / 111_320.0)  # 20 m into T-A-2: meant, not jitter
    snapped = snap_to_neighbours(moved, neighbours=[shapes["T-A-2"]], parent=shapes["T-A"])
    assert shapely.equals(snapped, moved)
    assert any(p.startswith("overlap ('T-A-1', 'T-A-2')")
               for p in problems({**shapes, "T-A-1": snapped}, PARENTS))


def test_split_names_the_left_piece_first() -> None:
    result = split(box(X0, Y0, X1, Y1), LineString([(120.405, Y0), (120.405, Y1)]))
    # drawn northwards: left is west
    assert shapely.equals(result.left, box(X0, Y0, 120.405, Y1))
    assert shapely.equals(result.right, box(120.405, Y0, X1, Y1))
    reverse = split(box(X0, Y0, X1, Y1), LineString([(120.405, Y1), (120.405, Y0)]))
    assert shapely.equals(reverse.left, result.right)


def test_split_keeps_the_hierarchy_clean() -> None:
    shapes = town()
    line = LineString([(120.405, Y0 - 0.3 * M), (120.4052, Y1 + 0.2 * M)])  # ends near edges
    result = split(shapes["T-A-1"], line)
    shapes.update({"T-A-1": result.left, "T-A-3": result.right})
    assert problems(shapes, {**PARENTS, "T-A-3": "T-A"}) == []


BORDER = (120.41043, 30.90351)  # the T-A/T-B border's middle dragged east: no longer straight


def slanted_town() -> dict[str, BaseGeometry]:
    """The test town with the T-A/T-B border bent at BORDER (every grid on it has the vertex)."""
    r = BORDER
    return {**town(),
            "T-A": Polygon([(X0, Y0), (X1, Y0), r, (X1, Y1), (X1, Y2), (X0, Y2)]),
            "T-B": Polygon([(X1, Y0), (X2, Y0), (X2, Y2), (X1, Y2), (X1, Y1), r]),
            "T-A-1": Polygon([(X0, Y0), (X1, Y0), r, (X1, Y1), (X0, Y1)]),
            "T-B-1": Polygon([(X1, Y0), (X2, Y0), (X2, Y1), (X1, Y1), r])}


def test_a_split_line_ending_inside_the_neighbour_leaves_no_sliver() -> None:
    shapes = slanted_town()
    parents = {**PARENTS, "T-A-3": "T-A"}
    assert problems(shapes, PARENTS, decimals=7) == []
    # from 3 m west of the town to 3 m inside T-B-1, across the bent border
    east_y = 30.9071
    border_x = float(np.interp(east_y, [Y0, BORDER[1], Y1], [X1, BORDER[0], X1]))
    line = LineString([(X0 - 3 * M, 30.9050), (border_x + 3 * M, east_y)])
    result = split(shapes["T-A-1"], line)
    shapes.update({"T-A-1": result.left, "T-A-3": result.right})
    # the crossing is a vertex of the pieces only: T-A, T-B and T-B-1 lack it, and a file
    # written with 7 decimals shows slivers where it lies
    assert problems(shapes, parents, decimals=7) != []
    noded = node(shapes, ["T-A-1", "T-A-3"])
    # the town and T-A take the west crossing too, T the corner of T-A-1 it lacked
    assert sorted(noded) == ["T", "T-A", "T-B", "T-B-1"]
    for code, geometry in noded.items():  # vertices added, nothing moved more than a hair
        assert shapely.get_num_coordinates(geometry) > shapely.get_num_coordinates(shapes[code])
        assert shapely.hausdorff_distance(geometry, shapes[code]) < degrees(NODE_TOLERANCE_M, Y1)
    shapes.update(noded)
    for decimals in (None, 7, 6, 5):
        assert problems(shapes, parents, decimals) == [], decimals
    assert node(shapes, ["T-A-1", "T-A-3"]) == {}  # noded once is noded


def test_a_split_line_stopping_short_of_the_boundary_is_extended_to_it() -> None:
    shapes = slanted_town()
    short = 0.8 * M  # within SNAP_TOLERANCE_M of the west edge and of the bent border
    east_y = 30.9062
    border_x = float(np.interp(east_y, [Y0, BORDER[1], Y1], [X1, BORDER[0], X1]))
    line = LineString([(X0 + short, 30.9041), (border_x - short, east_y)])
    result = split(shapes["T-A-1"], line)
    assert shapely.union(result.left, result.right).symmetric_difference(
        shapes["T-A-1"]).area < 1e-16
    assert area_m2(result.left) > 1e5 and area_m2(result.right) > 1e5
    shapes.update({"T-A-1": result.left, "T-A-3": result.right})
    shapes.update(node(shapes, ["T-A-1", "T-A-3"]))
    for decimals in (None, 7):
        assert problems(shapes, {**PARENTS, "T-A-3": "T-A"}, decimals) == [], decimals
    too_short = LineString([(X0 + 3 * M, 30.9041), (border_x - 3 * M, east_y)])
    with pytest.raises(EditError, match="切成了 1 块"):
        split(shapes["T-A-1"], too_short)


def test_split_refuses_a_line_that_does_not_cut_in_two() -> None:
    with pytest.raises(EditError, match="切成了 1 块"):
        split(box(X0, Y0, X1, Y1), LineString([(120.405, Y0 + 0.001), (120.405, Y1 - 0.001)]))
    with pytest.raises(EditError, match="切成了 3 块"):
        split(box(X0, Y0, X1, Y1),
              LineString([(120.403, Y0), (120.403, Y1), (120.406, Y1), (120.406, Y0)]))
    near_edge = LineString([(X0 + 0.5 * M, Y0), (X0 + 0.5 * M, Y1)])
    with pytest.raises(EditError, match="切成了 1 块"):  # snapped onto the edge: no cut
        split(box(X0, Y0, X1, Y1), near_edge)
    with pytest.raises(EditError, match="狭长碎片"):
        split(box(X0, Y0, X1, Y1), near_edge, tolerance_m=0.1)


def test_a_village_splits_along_its_grids_edges() -> None:
    shapes = town()
    kids = {"T-A-1": shapes["T-A-1"], "T-A-2": shapes["T-A-2"]}
    # drawn eastwards 0.4 m off the shared edge: left (north) holds T-A-2
    line = LineString([(X0, Y1 + 0.4 / 111_320.0), (X1, Y1 + 0.4 / 111_320.0)])
    result = split(shapes["T-A"], line, children=kids)
    assert result.children == {"T-A-1": 1, "T-A-2": 0}
    assert shapely.equals(result.right, shapes["T-A-1"])
    shapes.update({"T-A": result.left, "T-C": result.right})
    assert problems(shapes, {**PARENTS, "T-C": "T", "T-A-1": "T-C"}) == []


def test_a_village_is_not_split_through_a_grid() -> None:
    shapes = town()
    kids = {"T-A-1": shapes["T-A-1"], "T-A-2": shapes["T-A-2"]}
    with pytest.raises(EditError, match="T-A-1"):
        split(shapes["T-A"], LineString([(X0, 30.905), (X1, 30.905)]), children=kids)


def test_merge_needs_a_shared_edge() -> None:
    shapes = town()
    merged = merge(shapes["T-A-1"], shapes["T-A-2"])
    assert shapely.equals(merged, shapes["T-A"]) and solid_parts(merged) == 1
    with pytest.raises(EditError, match="没有共同的边界"):
        merge(shapes["T-A-1"], shapes["T-B-2"])  # corner only


def test_move_gives_a_piece_without_a_sliver() -> None:
    shapes = town()
    piece = Polygon([(120.408, Y0 - 0.001), (X1 + 0.001, Y0 - 0.001), (X1 + 0.001, 30.905),
                     (120.4085, 30.9052)])  # the south-east corner: far from T-A-2
    with pytest.raises(EditError, match="不相邻"):
        move_piece(shapes["T-A-1"], shapes["T-A-2"], piece)
    with pytest.raises(EditError, match="没有重叠"):
        move_piece(shapes["T-A-1"], shapes["T-A-2"], box(X1 + 0.001, Y0, X2, Y1))
    piece = box(X0 - 0.001, 30.908, X1 + 0.001, Y1 + 0.001)  # the north strip of T-A-1
    result = move_piece(shapes["T-A-1"], shapes["T-A-2"], piece)
    assert result.children == ()
    shapes.update({"T-A-1": result.giver, "T-A-2": result.taker})
    assert problems(shapes, PARENTS) == []
    assert shapely.equals(result.taker, box(X0, 30.908, X1, Y2))


def test_move_between_villages_takes_whole_grids() -> None:
    shapes = town()
    kids = {"T-A-1": shapes["T-A-1"], "T-A-2": shapes["T-A-2"]}
    loose = box(X0 - 0.001, Y1 - 0.3 / 111_320.0, X1 + 0.001, Y2 + 0.001)
    result = move_piece(shapes["T-A"], shapes["T-B"], loose, children=kids)
    assert result.children == ("T-A-2",)
    shapes.update({"T-A": result.giver, "T-B": result.taker})
    assert problems(shapes, {**PARENTS, "T-A-2": "T-B"}) == []
    with pytest.raises(EditError, match="切开了三级网格"):
        move_piece(shapes["T-A"], shapes["T-B"], box(X0, Y0, X1, 30.905), children=kids)
    with pytest.raises(EditError, match="一点不剩"):
        move_piece(shapes["T-A-1"], shapes["T-B-1"], box(X0 - 1, Y0 - 1, X1 + 1, Y2 + 1))


def test_transfer_shares_the_cut_edge() -> None:
    shapes = town()
    giver, taker = transfer(shapes["T-A"], shapes["T-B"], shapes["T-A-1"])
    assert shapely.equals(giver, shapes["T-A-2"])
    assert solid_parts(taker) == 1
    shapes.update({"T-A": giver, "T-B": taker})
    assert problems(shapes, {**PARENTS, "T-A-1": "T-B"}) == []
