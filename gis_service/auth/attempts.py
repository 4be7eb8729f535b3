"""Failed sign-ins, limited and logged: after `max_failures` wrong passwords for one user name
from one address within `window_seconds`, further tries from there are refused (429 with
Retry-After) until the oldest failure leaves the window. Kept in memory per process: a
guessing client meets the limit of whichever worker serves it, which is enough to make
guessing a password slow; a success clears the count."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from gis_service.errors import TooManyRequestsError

logger = logging.getLogger("gis_service.auth")


class SignInGuard:
    """Counts failed sign-ins per (user name, client address)."""

    def __init__(self, max_failures: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str, client: str) -> None:
        """TooManyRequestsError when this name has failed too often from this address."""
        if self.max_failures <= 0:
            return
        with self._lock:
            recent = self._recent((username.casefold(), client))
            if len(recent) >= self.max_failures:
                wait = math.ceil(recent[0] + self.window - self.clock())
                logger.warning("sign-in refused for %r from %s: %d failures", username, client,
                               len(recent))
                raise TooManyRequestsError(
                    f"too many failed sign-ins for {username!r}: try again in {wait} s",
                    retry_after=max(wait, 1))

    def failed(self, username: str, client: str) -> None:
        """Count (and log) a wrong password."""
        logger.warning("sign-in failed for %r from %s", username, client)
        with self._lock:
            key = (username.casefold(), client)
            self._recent(key).append(self.clock())

    def succeeded(self, username: str, client: str) -> None:
        """A right password clears the count."""
        with self._lock:
            self._failures.pop((username.casefold(), client), None)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        moments = self._failures.setdefault(key, deque())
        while moments and moments[0] <= self.clock() - self.window:
            moments.popleft()
        return moments
