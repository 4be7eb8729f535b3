"""Early warning from counts: is this week's count improbably high for the place (or category)?

Each cell's baseline is its mean over the last N weeks; under "nothing changed" this week's
count is Poisson with that mean, so the one-sided p-value P(X >= count) says how surprising it
is. A cell with no reports in the baseline would make any report infinitely surprising, so the
test uses (baseline total + 0.5) / N (half a report, the Jeffreys prior's guess) as its mean;
such cells are reported as new clusters instead, merged with flagged neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3
import numpy as np
from numpy.typing import ArrayLike, NDArray

EMPTY_BASELINE_PRIOR = 0.5  # reports added to an empty baseline (see the module's note)
_TAIL_TERMS = 64  # Poisson terms summed past the count (each step shrinks them by lam/k)
_LGAMMA = np.vectorize(math.lgamma, otypes=[np.float64])


@dataclass(frozen=True)
class Flags:
    """Per cell: the expected count (baseline mean), ratio to it, p-value and whether flagged."""

    expected: NDArray[np.float64]
    ratio: NDArray[np.float64]
    p: NDArray[np.float64]
    flagged: NDArray[np.bool_]


def poisson_tail(count: ArrayLike, mean: ArrayLike) -> NDArray[np.float64]:
    """P(X >= count) for X ~ Poisson(mean), element-wise (count >= 0, mean > 0)."""
    k = np.asarray(count, dtype=np.float64)
    lam = np.asarray(mean, dtype=np.float64)
    k, lam = np.broadcast_arrays(k, lam)
    out = np.ones(k.shape, dtype=np.float64)
    above = k > lam  # only there is the tail small; below the mean the lower sum is short
    out[above] = _upper_sum(k[above], lam[above])
    below = (k > 0) & ~above
    out[below] = 1.0 - _lower_sum(k[below], lam[below])
    return np.clip(out, 0.0, 1.0)


def _log_pmf(i: NDArray[np.float64], lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(-lam + i * np.log(lam) - _LGAMMA(i + 1.0), dtype=np.float64)


def _upper_sum(k: NDArray[np.float64], lam: NDArray[np.float64]) -> NDArray[np.float64]:
    if k.size == 0:
        return k
    # terms past k fall at least as fast as (lam/k)^j; add enough of them for that rate
    spread = int(min(10_000, 8 * np.sqrt(lam.max()) + _TAIL_TERMS))
    steps = np.arange(spread, dtype=np.float64)
    first = _log_pmf(k, lam)
    # log pmf(k + j) - log pmf(k) = j log lam - log((k+1)...(k+j))
    logs = steps[None, :] * np.log(lam)[:, None] - np.cumsum(
        np.log(np.maximum(k[:, None] + steps[None, :], 1.0)) * (steps[None, :] > 0), axis=1)
    return np.asarray(np.exp(first) * np.exp(logs).sum(axis=1), dtype=np.float64)


def _lower_sum(k: NDArray[np.float64], lam: NDArray[np.float64]) -> NDArray[np.float64]:
    if k.size == 0:
        return k
    top = int(k.max())
    i = np.arange(top, dtype=np.float64)
    terms = np.exp(_log_pmf(np.broadcast_to(i, (k.size, top)),
                            np.broadcast_to(lam[:, None], (k.size, top))))
    return np.asarray((terms * (i[None, :] < k[:, None])).sum(axis=1), dtype=np.float64)


def flag_counts(current: ArrayLike, baseline: ArrayLike, *, p_value: float,
                min_count: int) -> Flags:
    """Test each row: `current` (n,) this window's counts, `baseline` (n, weeks) earlier ones."""
    now = np.asarray(current, dtype=np.float64)
    before = np.asarray(baseline, dtype=np.float64)
    if before.ndim != 2:  # a flat list (one row) or nothing at all
        before = before.reshape(now.size, -1) if now.size else np.zeros((0, 1))
    weeks = max(before.shape[1], 1)
    expected = before.sum(axis=1) / weeks
    mean = (before.sum(axis=1) + (expected == 0) * EMPTY_BASELINE_PRIOR) / weeks
    candidates = (now >= min_count) & (now > mean)
    p = np.ones(now.size)
    p[candidates] = poisson_tail(now[candidates], mean[candidates])
    ratio = now / mean
    return Flags(expected, ratio, p, candidates & (p < p_value))


def clusters(new: list[str], flagged: list[str]) -> list[list[str]]:
    """Groups of touching cells, each holding at least one `new` cell: a new cell with the
    flagged (or new) cells that touch it, transitively."""
    pool = set(new) | set(flagged)
    seen: set[str] = set()
    groups = []
    for start in sorted(new):
        if start in seen:
            continue
        group, todo = [], [start]
        seen.add(start)
        while todo:
            cell = todo.pop()
            group.append(cell)
            for near in h3.grid_disk(cell, 1):
                if near in pool and near not in seen:
                    seen.add(near)
                    todo.append(near)
        groups.append(sorted(group))
    return groups


def repeat_groups(x_m: ArrayLike, y_m: ArrayLike, *, radius_m: float,
                  min_count: int) -> list[list[int]]:
    """Indexes of points that lie within `radius_m` of a seed point with at least
    `min_count` points near it (itself included); each point in one group at most. Seeds
    are taken busiest first."""
    xs = np.asarray(x_m, dtype=np.float64)
    ys = np.asarray(y_m, dtype=np.float64)
    limit = radius_m ** 2
    keys = list(zip(np.floor(xs / radius_m).astype(np.int64).tolist(),
                    np.floor(ys / radius_m).astype(np.int64).tolist(), strict=True))
    buckets: dict[tuple[int, int], list[int]] = {}
    for index, key in enumerate(keys):
        buckets.setdefault(key, []).append(index)
    # a point's neighbours lie in its bucket or the eight around it (buckets are radius wide)
    around = {key: np.array([j for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                             for j in buckets.get((key[0] + dx, key[1] + dy), ())])
              for key in buckets}
    counts = np.zeros(xs.size, dtype=np.int64)
    for key, members in buckets.items():
        inside, near = np.array(members), around[key]
        d2 = (xs[inside, None] - xs[None, near]) ** 2 + (ys[inside, None] - ys[None, near]) ** 2
        counts[inside] = (d2 <= limit).sum(axis=1)
    used = np.zeros(xs.size, dtype=bool)
    groups = []
    for index in np.lexsort((np.arange(xs.size), -counts)).tolist():
        if counts[index] < min_count:
            break
        if used[index]:
            continue
        near = around[keys[index]]
        close = near[((xs[near] - xs[index]) ** 2 + (ys[near] - ys[index]) ** 2 <= limit)
                     & ~used[near]]
        if close.size >= min_count:
            used[close] = True
            groups.append(sorted(close.tolist()))
    return groups
