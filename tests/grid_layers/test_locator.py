"""Tests for grid_layers.locator: exact covers semantics against brute-force shapely (no DB)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from grid_layers.locator import OverlayLayer, PartitionLayer, _twins, grid_shape

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Dyadic coordinates, so that points on the diagonal below are exactly representable.
XS = [120.0 + k / 8 for k in range(5)]
YS = [30.0 + k / 8 for k in range(5)]
HOLE = (XS[1] + 1 / 32, YS[1] + 1 / 32, XS[2] - 1 / 32, YS[2] - 1 / 32)


def checkerboard() -> dict[str, BaseGeometry]:
    """A 4 x 4 board of cells G<row><col> (row 0 south); G11 has a hole; G22 + G23 are replaced
    by two triangles D1 (south-east) and D2 (north-west) split along a diagonal."""
    out: dict[str, BaseGeometry] = {}
    for r in range(4):
        for c in range(4):
            out[f"G{r}{c}"] = box(XS[c], YS[r], XS[c + 1], YS[r + 1])
    out["G11"] = out["G11"].difference(box(*HOLE))
    del out["G22"], out["G23"]
    x2, x3, x4, y2, y3 = XS[2], XS[3], XS[4], YS[2], YS[3]
    # the mid vertices on the outer edges keep the neighbours' vertices shared (noded)
    out["D1"] = Polygon([(x2, y2), (x3, y2), (x4, y2), (x4, y3)])
    out["D2"] = Polygon([(x2, y2), (x4, y3), (x3, y3), (x2, y3)])
    return out


def brute(
    codes: list[str], geoms: list[BaseGeometry], x: np.ndarray, y: np.ndarray
) -> list[list[str]]:
    """Per point, the sorted codes whose polygon covers it, by plain shapely.covers."""
    pts = shapely.points(x, y)
    cover = np.array([shapely.covers(g, pts) for g in geoms]).reshape(len(geoms), len(x))
    return [sorted(codes[i] for i in np.flatnonzero(cover[:, k])) for k in range(len(x))]


def check_layers(
    codes: list[str], geoms: list[BaseGeometry], x: np.ndarray, y: np.ndarray, max_cells: int = 512
) -> list[list[str]]:
    """Build both layer kinds and check batch and scalar answers against brute force."""
    expected = brute(codes, geoms, x, y)
    part = PartitionLayer(codes, geoms, max_cells=max_cells)
    got = part.locate(x, y)
    assert got.dtype == np.int32
    answers = [part.codes[i] if i >= 0 else None for i in got.tolist()]
    assert answers == [e[0] if e else None for e in expected]
    assert [part.locate_point(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)] == answers
    over = OverlayLayer(codes, geoms, max_cells=max_cells)
    pi, ci = over.locate(x, y)
    assert np.all(np.diff(pi) >= 0)  # sorted by point ...
    runs: list[list[str]] = [[] for _ in range(len(x))]
    for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
        runs[p].append(over.codes[c])
    assert runs == expected  # ... then by code
    assert [
        over.locate_point(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)
    ] == expected
    return expected


def grid_line_points(layer: PartitionLayer, rng: np.random.Generator, n: int) -> np.ndarray:
    """Points on, and one ulp either side of, the layer's own cell lines (where floor() rounds)
    and cell centres (the points its answers are derived from), at every level."""
    nx, ny = layer.shape  # white box: the grids the cells are cut on
    k = rng.integers(0, layer.depth + 1, (2, n))
    at = rng.choice([0.0, 0.5], (2, n))  # a cell line or a centre line
    gx = layer._gx0 + (rng.integers(0, nx << k[0]) + at[0]) * layer._cw[k[0]]
    gy = layer._gy0 + (rng.integers(0, ny << k[1]) + at[1]) * layer._ch[k[1]]
    gx = np.where(rng.random(n) < 0.5, gx, np.nextafter(gx, rng.choice([-np.inf, np.inf], n)))
    gy = np.where(rng.random(n) < 0.5, gy, np.nextafter(gy, rng.choice([-np.inf, np.inf], n)))
    return np.c_[gx, gy]


# --- the hand-built checkerboard -------------------------------------------------------------

BOARD_CASES = [
    ((XS[1] + 1 / 16, YS[0] + 1 / 16), "G01"),  # interior
    ((XS[0], YS[0]), "G00"),  # outer corner
    ((XS[4], YS[4]), "G33"),  # opposite outer corner
    ((XS[1], YS[1]), "G00"),  # vertex shared by G00, G01, G10, G11
    ((XS[2], YS[0] + 1 / 16), "G01"),  # on the edge G01 | G02
    ((XS[0] + 1 / 16, YS[2]), "G10"),  # on the edge G10 | G20
    ((XS[3], YS[4]), "G32"),  # on the outer edge, at the vertex G32 | G33
    (((HOLE[0] + HOLE[2]) / 2, (HOLE[1] + HOLE[3]) / 2), None),  # in G11's hole
    ((HOLE[0], (HOLE[1] + HOLE[3]) / 2), "G11"),  # on the hole's rim: covered
    ((HOLE[0], HOLE[1]), "G11"),  # the hole's corner
    (((XS[2] + XS[4]) / 2, (YS[2] + YS[3]) / 2), "D1"),  # exactly on the diagonal
    ((XS[3] + 1 / 64, YS[2] + 1 / 16), "D1"),  # just below the diagonal ...
    ((XS[3] - 1 / 64, YS[2] + 1 / 16), "D2"),  # ... and just above it
    ((XS[3], YS[2]), "D1"),  # vertex D1 | G12 | G13
    ((XS[4], YS[3]), "D1"),  # vertex D1 | D2 | G33
    ((XS[2], YS[3]), "D2"),  # vertex D2 | G21 | G31 | G32
    ((XS[3], YS[3]), "D2"),  # D2's mid vertex on the edge it shares with G32 | G33
    ((XS[0] - 1 / 64, YS[1]), None),  # outside, west
    ((XS[4] + 1e-12, YS[1]), None),  # outside by a hair
    ((XS[2], YS[4] + 1 / 64), None),  # outside, north
]


def test_checkerboard_expected_codes() -> None:
    board = checkerboard()
    codes, geoms = list(board), list(board.values())
    x = np.array([p[0] for p, _ in BOARD_CASES])
    y = np.array([p[1] for p, _ in BOARD_CASES])
    want = [code for _, code in BOARD_CASES]
    for max_cells in (1, 3, 512):  # one cell, coarse cells, fine cells
        layer = PartitionLayer(codes, geoms, max_cells=max_cells)
        got = layer.locate(x, y)
        assert [layer.codes[i] if i >= 0 else None for i in got] == want
        assert [layer.locate_point(a, b) for a, b in zip(x, y, strict=True)] == want
    check_layers(codes, geoms, x, y)


def test_checkerboard_dense_sample_matches_brute_force() -> None:
    board = checkerboard()
    codes, geoms = list(board), list(board.values())
    rng = np.random.default_rng(7)
    # a lattice at 1/64 hits every vertex and runs along every edge; plus random points
    lattice = np.arange(XS[0] - 1 / 32, XS[4] + 1 / 16, 1 / 64)
    gx, gy = np.meshgrid(lattice, lattice - XS[0] + YS[0])
    x = np.r_[gx.ravel(), rng.uniform(XS[0] - 0.05, XS[4] + 0.05, 2000)]
    y = np.r_[gy.ravel(), rng.uniform(YS[0] - 0.05, YS[4] + 0.05, 2000)]
    expected = check_layers(codes, geoms, x, y, max_cells=16)
    inside = (x >= XS[0]) & (x <= XS[4]) & (y >= YS[0]) & (y <= YS[4])
    in_hole = (x > HOLE[0]) & (x < HOLE[2]) & (y > HOLE[1]) & (y < HOLE[3])
    assert all(bool(expected[i]) == (inside[i] and not in_hole[i]) for i in range(len(x)))


def test_codes_are_sorted_and_indices_refer_to_them() -> None:
    layer = PartitionLayer(["b", "a"], [box(1, 0, 2, 1), box(0, 0, 1, 1)])
    assert layer.codes == ("a", "b")
    assert layer.locate([0.5, 1.5, 1.0, 5.0], [0.5, 0.5, 0.5, 0.5]).tolist() == [0, 1, 0, -1]
    assert layer.locate_point(1.0, 0.5) == "a"  # shared edge: the smaller code
    # plain string order, not natural order: "G10" < "G9"
    layer = PartitionLayer(["G9", "G10"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    assert layer.locate_point(1.0, 0.5) == "G10"


def test_multipolygon_and_nan_and_shapes() -> None:
    mp = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    layer = PartitionLayer(["M"], [mp])
    assert layer.locate([0.5, 1.5, 2.5, math.nan], [0.5, 0.5, 0.5, 0.5]).tolist() == [0, -1, 0, -1]
    assert layer.locate_point(math.nan, 0.5) is None
    assert layer.locate_point(math.inf, 0.5) is None
    far = [math.inf, -math.inf, 1e300, -1e300, 1e12, 0.5]  # cast to garbage, clipped to the rim
    assert layer.locate(far, [0.5, 0.5, 0.5, 0.5, 0.5, -1e300]).tolist() == [-1] * 6
    assert [layer.locate_point(a, 0.5) for a in far[:5]] == [None] * 5
    assert layer.locate(np.zeros(0), np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError, match="values"):
        layer.locate([1.0, 2.0], [1.0])


def test_shared_edges_are_kept_once_and_repeated_vertices_ignored() -> None:
    left = Polygon([(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)])  # (1, 0) twice
    right = box(1, 0, 2, 1)
    # white box: of the two copies of the edge (1, 0)-(1, 1), one is kept, bounding both
    xy = shapely.get_coordinates([left, right])
    first = np.array([0, 2, 3, 4, 6, 7, 8, 9])  # every edge but the repeated vertex's
    keep, other = _twins(xy, first, np.array([0] * 6 + [1] * 5, np.int32))
    assert keep.tolist() == [True] * 6 + [False, True]
    assert other.tolist() == [-1, 1] + [-1] * 6
    layer = PartitionLayer(["L", "R"], [left, right])
    x = np.array([0.5, 1.0, 1.0, 1.0, 1.5, 1.0 + 1e-12, 1.0 - 1e-12, 2.0, 2.0 + 1e-12])
    y = np.array([0.5, 0.0, 0.5, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5])
    want = ["L", "L", "L", "L", "R", "R", "L", "R", None]
    assert [layer.codes[i] if i >= 0 else None for i in layer.locate(x, y)] == want
    assert [layer.locate_point(a, b) for a, b in zip(x, y, strict=True)] == want
    over = OverlayLayer(["L", "R"], [left, box(1, 0, 2, 1)])
    assert over.locate_point(1.0, 0.5) == ["L", "R"]
    assert over.locate_point(1.0 + 1e-12, 0.5) == ["R"]


def test_centres_on_an_edge_are_answered_by_geos() -> None:
    """A shared edge through a row of cell centres: those cells' reference points cannot be
    decided by orientation tests, so their points are answered by GEOS, exactly."""

    def halves(cut: float) -> list[BaseGeometry]:
        return [box(120.0, 30.0, cut, 30.5), box(cut, 30.0, 121.0, 30.5)]

    first = PartitionLayer(["A", "B"], halves(120.37))
    k = round((120.37 - first._gx0) / first._cw[0] - 0.5)
    cut = float(first._gx0 + (k + 0.5) * first._cw[0])  # the centre line of a column of cells
    layer = PartitionLayer(["A", "B"], halves(cut))
    assert layer.shape == first.shape and layer._gx0 == first._gx0  # the same grid
    assert layer._geos.any()
    rng = np.random.default_rng(1)
    y = rng.uniform(30.0, 30.5, 4000)
    x = np.r_[
        np.full(1000, cut),
        np.nextafter(np.full(1000, cut), -np.inf),
        np.nextafter(np.full(1000, cut), np.inf),
        rng.uniform(120.0, 121.0, 1000),
    ]
    check_layers(["A", "B"], halves(cut), x, y)


def test_empty_layers_answer_nothing() -> None:
    part, over = PartitionLayer([], []), OverlayLayer([], [])
    assert part.codes == () and over.codes == ()
    assert part.locate([0.0, 1.0], [0.0, 1.0]).tolist() == [-1, -1]
    assert part.locate_point(0.0, 0.0) is None
    pi, ci = over.locate([0.0, 1.0], [0.0, 1.0])
    assert len(pi) == 0 and len(ci) == 0
    assert over.locate_point(0.0, 0.0) == []


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "BAD: invalid geometry"),  # bow-tie
        (Polygon(), "BAD: empty geometry"),
        (Point(0, 0), "BAD: expected a Polygon or MultiPolygon"),
        (box(0, 0, 1, 1).boundary, "BAD: expected a Polygon or MultiPolygon"),
    ],
)
def test_bad_geometries_name_the_code(geometry: BaseGeometry, message: str) -> None:
    for kind in (PartitionLayer, OverlayLayer):
        with pytest.raises(ValueError, match=message):
            kind(["OK", "BAD"], [box(0, 0, 1, 1), geometry])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="duplicate code 'A'"):
        PartitionLayer(["A", "A"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    with pytest.raises(ValueError, match="2 codes but 1 geometries"):
        PartitionLayer(["A", "B"], [box(0, 0, 1, 1)])


def test_grid_shape_follows_extent_and_caps() -> None:
    assert grid_shape(2.0, 1.0, 64, 0, 512) == (512, 256)
    nx, ny = grid_shape(1.0, 1.0, 1, 10, 512)
    assert nx == ny and nx * ny <= 4 * 4096
    assert grid_shape(1.0, 1.0, 10**6, 0, 100) == (100, 100)
    assert grid_shape(1.0, 1.0, 64, 10**6, 512) == (512, 512)  # detailed boundaries: finer


def test_overlay_overlapping_circles() -> None:
    centres = {"Z3": (0.0, 0.0), "Z1": (1.0, 0.0), "Z2": (0.5, 0.8)}
    geoms = [Point(c).buffer(0.75, quad_segs=64) for c in centres.values()]
    codes = list(centres)
    layer = OverlayLayer(codes, geoms)
    assert layer.locate_point(0.5, 0.3) == ["Z1", "Z2", "Z3"]  # in all three
    assert layer.locate_point(0.0, 0.0) == ["Z3"]
    assert layer.locate_point(0.5, -0.2) == ["Z1", "Z3"]
    assert layer.locate_point(5.0, 5.0) == []
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 2, 3000), rng.uniform(-1, 2, 3000)
    vx, vy = shapely.get_coordinates(geoms).T  # every vertex is on a boundary
    expected = check_layers(codes, geoms, np.r_[x, vx], np.r_[y, vy])
    assert max(len(e) for e in expected) == 3


# --- properties ------------------------------------------------------------------------------


@st.composite
def axis_partitions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[str], int, int]:
    """Cut positions (arbitrary floats near a real town, or at a projected-metre scale), shuffled
    codes for the cells, a max_cells value and a seed for the points."""
    origin = draw(st.sampled_from([(120.45, 30.95), (0.0, 0.0), (500_000.0, 3_400_000.0)]))
    span = draw(st.sampled_from([1e-4, 0.01, 0.1, 2.0, 5000.0]))
    fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
    fx = draw(st.lists(fractions, min_size=2, max_size=7, unique=True))
    fy = draw(st.lists(fractions, min_size=2, max_size=7, unique=True))
    xs = np.unique(origin[0] + span * np.array(fx))
    ys = np.unique(origin[1] + span * np.array(fy))
    assume(len(xs) >= 2 and len(ys) >= 2 and np.diff(xs).min() > 0 and np.diff(ys).min() > 0)
    n = (len(xs) - 1) * (len(ys) - 1)
    labels = draw(st.permutations([f"C{i:02d}" for i in range(n)]))
    max_cells = draw(st.sampled_from([1, 2, 7, 64, 512]))
    return xs, ys, list(labels), max_cells, draw(st.integers(0, 2**32 - 1))


@PROPERTY
@given(axis_partitions())
def test_axis_aligned_partition_is_exact(
    case: tuple[np.ndarray, np.ndarray, list[str], int, int],
) -> None:
    xs, ys, labels, max_cells, seed = case
    rng = np.random.default_rng(seed)
    geoms = [
        box(xs[i], ys[j], xs[i + 1], ys[j + 1])
        for j in range(len(ys) - 1)
        for i in range(len(xs) - 1)
    ]
    layer = PartitionLayer(labels, geoms, max_cells=max_cells)
    n = 150
    pts = [
        np.c_[rng.uniform(xs[0], xs[-1], n), rng.uniform(ys[0], ys[-1], n)],  # inside
        np.c_[rng.choice(xs, n), rng.uniform(ys[0], ys[-1], n)],  # on vertical cut lines
        np.c_[rng.uniform(xs[0], xs[-1], n), rng.choice(ys, n)],  # on horizontal cut lines
        np.c_[rng.choice(xs, n), rng.choice(ys, n)],  # at vertices
        grid_line_points(layer, rng, n),  # on and beside the index's own cell lines
    ]
    p = np.concatenate(pts)
    x, y = p[:, 0], p[:, 1]
    expected = check_layers(labels, geoms, x, y, max_cells)
    inside = (x >= xs[0]) & (x <= xs[-1]) & (y >= ys[0]) & (y <= ys[-1])
    # a partition: every point of the closed extent is covered, and only there
    assert [bool(e) for e in expected] == inside.tolist()
    # a point strictly inside one cell (no cut line through it) is in exactly one cell
    on_cut = np.isin(x, xs) | np.isin(y, ys)
    assert all(len(e) == 1 for e, c, i in zip(expected, on_cut, inside, strict=True) if i and not c)


def star(rng: np.random.Generator, cx: float, cy: float, r: float, n: int) -> Polygon:
    """A random star-shaped (hence simple) polygon with n vertices."""
    t = np.sort(rng.uniform(0, 2 * math.pi, n))
    t = np.unique(t)
    rad = r * rng.uniform(0.3, 1.0, len(t))
    return Polygon(np.c_[cx + rad * np.cos(t), cy + rad * np.sin(t)])


def random_polygon(rng: np.random.Generator, span: float) -> BaseGeometry:
    """One of: a star with many vertices, a buffered point cloud (maybe multi-part), a polygon
    with a hole."""
    cx, cy = rng.uniform(0, span, 2)
    r = span * rng.uniform(0.05, 0.5)
    kind = rng.integers(3)
    if kind == 0:
        geom = star(rng, cx, cy, r, int(rng.integers(3, 400)))
    elif kind == 1:
        cloud = shapely.MultiPoint(rng.normal((cx, cy), r / 2, (int(rng.integers(1, 6)), 2)))
        geom = cloud.buffer(r / 3, quad_segs=int(rng.integers(1, 32)))
    else:
        # a star whose close angles round to a self-touching ring is made valid before the
        # hole is cut (GEOS refuses to cut an invalid one)
        outer = star(rng, cx, cy, r, int(rng.integers(8, 200)))
        outer = shapely.make_valid(outer) if not outer.is_valid else outer
        geom = outer.difference(Point(cx, cy).buffer(r * 0.25, quad_segs=8))
    return shapely.make_valid(geom) if not geom.is_valid else geom


def near_town(geom: BaseGeometry) -> BaseGeometry:
    """Move a geometry built near (0, 0) to the town's lon/lat."""
    return shapely.transform(geom, lambda c: c + np.array([120.45, 30.95]))


@PROPERTY
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 7),
    st.sampled_from([1e-3, 0.05, 1.0]),
    st.sampled_from([4, 32, 512]),
)
def test_random_polygons_match_brute_force(seed: int, n: int, span: float, max_cells: int) -> None:
    rng = np.random.default_rng(seed)
    geoms = [near_town(random_polygon(rng, span)) for _ in range(n)]
    geoms = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    assume(geoms)
    codes = [f"P{v}" for v in rng.permutation(len(geoms))]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    pad = 0.1 * (x1 - x0)
    verts = shapely.get_coordinates(geoms)
    verts = verts[rng.choice(len(verts), min(len(verts), 300), replace=False)]
    seg = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(geoms)[0]))
    mids = (seg[1:] + seg[:-1]) / 2  # near (not always exactly on) an edge
    eps = 1e-9 * rng.choice([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], (len(verts), 2))
    layer = PartitionLayer(codes, geoms, max_cells=max_cells)
    p = np.concatenate(
        [
            np.c_[rng.uniform(x0 - pad, x1 + pad, 300), rng.uniform(y0 - pad, y1 + pad, 300)],
            verts,  # on a boundary
            verts + eps,  # around a vertex, at the scale of the index's epsilon
            np.nextafter(verts, np.inf),  # one ulp off a vertex
            mids[:100],
            grid_line_points(layer, rng, 200),
        ]
    )
    check_layers(codes, geoms, p[:, 0], p[:, 1], max_cells)


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 16, 512]))
def test_locate_point_agrees_with_locate(seed: int, max_cells: int) -> None:
    rng = np.random.default_rng(seed)
    geoms = [near_town(random_polygon(rng, 0.05)) for _ in range(int(rng.integers(1, 6)))]
    geoms = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    assume(geoms)
    codes = [f"Z{i}" for i in range(len(geoms))]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    verts = shapely.get_coordinates(geoms)[:200]
    x = np.r_[rng.uniform(x0 - 0.01, x1 + 0.01, 500), verts[:, 0]]
    y = np.r_[rng.uniform(y0 - 0.01, y1 + 0.01, 500), verts[:, 1]]
    part = PartitionLayer(codes, geoms, max_cells=max_cells)
    batch = part.locate(x, y)
    single = [part.locate_point(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    assert single == [part.codes[i] if i >= 0 else None for i in batch.tolist()]
    over = OverlayLayer(codes, geoms, max_cells=max_cells)
    pi, ci = over.locate(x, y)
    runs: list[list[str]] = [[] for _ in range(len(x))]
    for p, c in zip(pi.tolist(), ci.tolist(), strict=True):
        runs[p].append(over.codes[c])
    assert [over.locate_point(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)] == runs


def test_synthetic_town_partition_is_exact() -> None:
    """Nested, exactly shared, detailed boundaries: every level matches brute force."""
    from bench.synthetic_town import build_town, random_points

    town = build_town(seed=3, detailed=True)
    x, y = random_points(town, 3000, seed=4)
    verts = shapely.get_coordinates([g for _, g in town[3]])
    verts = verts[np.random.default_rng(5).choice(len(verts), 1000, replace=False)]
    x, y = np.r_[x, verts[:, 0]], np.r_[y, verts[:, 1]]
    for level in (1, 2, 3):
        codes = [c for c, _ in town[level]]
        geoms = [g for _, g in town[level]]
        expected = brute(codes, geoms, x, y)
        layer = PartitionLayer(codes, geoms)
        got = layer.locate(x, y)
        assert [layer.codes[i] if i >= 0 else None for i in got] == [
            e[0] if e else None for e in expected
        ]
        # vertices are on shared edges: covered by one grid at least, and answered
        assert (got[3000:] >= 0).all()
