"""How an incident ended: when it closed, how (the 721 ratio) and how satisfied the reporter was.

Each report is handled for a while measured against its own deadline (`deadlines.py`): most
handlers use a good part of their time (a beta distribution between 3 % and 98 % of it), about
one in eight takes longer (105–250 %). A report still in hand when the history ends is open;
so the open ones are mostly recent and within their time, and the few past their deadline
(about one in ten; `incidents.py` checks it) are the late handlings caught in the act.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from demo_town.common import ANCHOR
from demo_town.people import Category

LATE_SHARE = 0.12
ON_TIME_SHAPE = (3.0, 2.0)  # beta(a, b): the share of its time an on-time handling uses
MIN_HANDLING = timedelta(hours=0.3)
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


def close(rng: random.Random, category: Category, reported_at: datetime,
          due_at: datetime) -> Closure:
    """Whether and how an incident reported at that time, due at `due_at`, had closed by
    ANCHOR."""
    late = rng.random() < LATE_SHARE
    share = (rng.uniform(1.05, 2.5) if late
             else rng.betavariate(*ON_TIME_SHAPE) * 0.95 + 0.03)
    handling = max((due_at - reported_at) * share, MIN_HANDLING)
    closed_at = reported_at + handling + timedelta(seconds=rng.randrange(60))
    if closed_at >= ANCHOR:
        return Closure()
    resolution = rng.choices(RESOLUTIONS, RESOLUTION_WEIGHTS[category.handler])[0]
    score = None
    if rng.random() >= NO_SCORE_SHARE:
        weights = LATE_SATISFACTION_WEIGHTS if late else SATISFACTION_WEIGHTS
        score = rng.choices(SATISFACTION, weights)[0]
    return Closure(closed_at.replace(microsecond=0), resolution, score)
