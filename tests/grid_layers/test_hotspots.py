"""The early-warning statistics without a database: the Poisson tail, flagging, clusters and
repeat points."""

from __future__ import annotations

import math

import h3
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grid_layers.hotspots import clusters, flag_counts, poisson_tail, repeat_groups


def exact_tail(k: int, lam: float) -> float:
    """P(X >= k) by the textbook sum (fine for small k and lam)."""
    return 1.0 - math.fsum(math.exp(-lam) * lam ** i / math.factorial(i) for i in range(k))


def test_poisson_tail_matches_known_values() -> None:
    # P(X >= 10 | lam = 2) = 4.6498075e-05 (tables; 1 - CDF(9))
    assert math.isclose(float(poisson_tail(10, 2.0)), 4.6498075017e-05, rel_tol=1e-9)
    assert math.isclose(float(poisson_tail(3, 2.0)), 0.3233235838169365, rel_tol=1e-12)
    assert float(poisson_tail(0, 3.0)) == 1.0
    # far in the tail the direct sum keeps its precision (1 - CDF would be all rounding)
    upper = math.fsum(math.exp(-2) * 2 ** i / math.factorial(i) for i in range(40, 120))
    assert math.isclose(float(poisson_tail(40, 2.0)), upper, rel_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=30), st.floats(min_value=0.05, max_value=25))
def test_poisson_tail_agrees_with_the_textbook_sum(k: int, lam: float) -> None:
    assert math.isclose(float(poisson_tail(k, lam)), exact_tail(k, lam), rel_tol=1e-6,
                        abs_tol=1e-12)


def test_flags_an_improbable_count_and_nothing_ordinary() -> None:
    current = [15, 3, 6, 2]
    baseline = [[2] * 8, [2] * 8, [0] * 8, [2, 1, 3, 2, 2, 1, 2, 3]]
    flags = flag_counts(current, baseline, p_value=0.01, min_count=5)
    assert flags.flagged.tolist() == [True, False, True, False]
    assert flags.expected.tolist()[:3] == [2.0, 2.0, 0.0]
    assert math.isclose(flags.p[0], exact_tail(15, 2.0), rel_tol=1e-6)
    assert flags.ratio[0] == 7.5
    # an empty baseline tests against half a report over the weeks, never zero
    assert math.isclose(flags.p[2], exact_tail(6, 0.5 / 8), rel_tol=1e-6)


def test_min_count_keeps_small_numbers_quiet() -> None:
    flags = flag_counts([4], [[0] * 8], p_value=0.01, min_count=5)
    assert not flags.flagged[0] and flags.p[0] == 1.0


def test_new_cells_merge_with_touching_flagged_cells() -> None:
    centre = h3.latlng_to_cell(30.91, 120.41, 8)
    ring = sorted(h3.grid_ring(centre, 1))
    far = h3.latlng_to_cell(30.99, 120.49, 8)
    groups = clusters([centre, far], [ring[0], ring[1], h3.latlng_to_cell(30.7, 120.2, 8)])
    assert sorted(groups) == sorted([sorted([centre, ring[0], ring[1]]), [far]])


def test_repeat_groups_gather_points_within_the_radius() -> None:
    rng = np.random.default_rng(7)
    spot = rng.uniform(-10, 10, size=(4, 2))  # four reports within 30 m of each other
    scattered = np.array([[500.0, 0.0], [0.0, 800.0], [900.0, 900.0]])
    points = np.vstack([spot, scattered])
    groups = repeat_groups(points[:, 0], points[:, 1], radius_m=30, min_count=3)
    assert groups == [[0, 1, 2, 3]]
    assert repeat_groups(points[:, 0], points[:, 1], radius_m=30, min_count=5) == []
    assert repeat_groups([], [], radius_m=30, min_count=3) == []
