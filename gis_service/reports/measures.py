"""How a report turns counts into the figures people read: a rate, the 721 ratio, the mean
rating — one definition for the period reports and the towns' league."""

from __future__ import annotations

from gis_service.incidents.core.lifecycle import RESOLUTIONS

RATIO_721_TARGET = [7, 2, 1]  # service : management : enforcement, of 10


def rate(part: int, whole: int) -> float | None:
    """`part` of `whole` (4 decimals); None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def ratio_721(counts: dict[str, int]) -> list[float] | None:
    """Closures by resolution as shares of 10 (the 721 ratio), in RESOLUTIONS order."""
    resolved = sum(counts.values())
    if not resolved:
        return None
    return [round(10 * counts.get(r, 0) / resolved, 1) for r in RESOLUTIONS]


def mean_rating(rating_sum: int, rated: int) -> float | None:
    """The mean satisfaction rating (1–5, 2 decimals) of `rated` ratings."""
    return round(rating_sum / rated, 2) if rated else None
