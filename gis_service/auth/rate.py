"""Requests per account, limited by a token bucket: `rate` a second sustained, `burst` at
once (a wall loading its tiles asks for many at a time). Over the limit → 429 with
Retry-After. Kept in memory per process, so N workers allow N times the rate; the limit is
there to stop a runaway client, not to meter fairly."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from gis_service.errors import TooManyRequestsError


class RateLimiter:
    """One bucket per key (an account id); `rate` ≤ 0 turns the limit off."""

    def __init__(self, rate: float, burst: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: int) -> None:
        """Spend one request of `key`'s allowance; TooManyRequestsError when none is left."""
        if self.rate <= 0:
            return
        with self._lock:
            now = self.clock()
            tokens, when = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise TooManyRequestsError(
                    f"more than {self.rate:g} requests a second from this account: slow down",
                    retry_after=max(wait, 1))
            self._buckets[key] = (tokens - 1.0, now)
