"""How an incident ended: when it closed, how (the 721 ratio) and how satisfied the reporter was.

Everything reported more than ten days before ANCHOR is closed, mostly within the category's
resolve_hours (about 8% late); of the last ten days about half is still open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from demo_town.common import ANCHOR
from demo_town.people import Category

OPEN_WINDOW = timedelta(days=10)
LATE_SHARE = 0.08
RECENT_OPEN_SHARE = 0.5
# service / management / enforcement by who handles the category: about 70 / 20 / 10 overall
RESOLUTION_WEIGHTS = {"grid": (0.88, 0.11, 0.01), "squad": (0.56, 0.24, 0.20),
                      "department": (0.70, 0.24, 0.06), "town": (0.80, 0.20, 0.0)}
RESOLUTIONS = ("service", "management", "enforcement")
SATISFACTION = (1, 2, 3, 4, 5)
SATISFACTION_WEIGHTS = (0.03, 0.04, 0.10, 0.28, 0.55)
LATE_SATISFACTION_WEIGHTS = (0.10, 0.12, 0.25, 0.30, 0.23)
NO_SCORE_SHARE = 0.15


@dataclass(frozen=True)
class Closure:
    """The end of an incident; all None / empty while it is open."""

    closed_at: datetime | None = None
    resolution: str = ""
    satisfaction: int | None = None


def close(rng: random.Random, category: Category, reported_at: datetime) -> Closure:
    """Whether and how an incident reported at that time had closed by ANCHOR."""
    recent = reported_at > ANCHOR - OPEN_WINDOW
    if recent and rng.random() < RECENT_OPEN_SHARE:
        return Closure()
    late = rng.random() < LATE_SHARE
    share = rng.uniform(1.05, 2.5) if late else rng.betavariate(2.0, 3.0) * 0.95 + 0.03
    hours = max(category.resolve_hours * share, 0.3)
    closed_at = reported_at + timedelta(hours=hours, seconds=rng.randrange(60))
    if closed_at >= ANCHOR:
        if recent:
            return Closure()
        closed_at = ANCHOR - timedelta(hours=rng.uniform(1.0, 48.0))  # long cases, closed late
    resolution = rng.choices(RESOLUTIONS, RESOLUTION_WEIGHTS[category.handler])[0]
    score = None
    if rng.random() >= NO_SCORE_SHARE:
        weights = LATE_SATISFACTION_WEIGHTS if late else SATISFACTION_WEIGHTS
        score = rng.choices(SATISFACTION, weights)[0]
    return Closure(closed_at.replace(microsecond=0), resolution, score)
