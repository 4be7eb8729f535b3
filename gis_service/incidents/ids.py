"""Incident ids taken from the database sequence a block at a time, so that the intake's hot
path does not spend a round trip on each (ids stay unique; a restart leaves a gap)."""

from __future__ import annotations

import threading
from collections import deque

from sqlalchemy import text
from sqlalchemy.orm import Session

BLOCK = text("SELECT nextval('incident_id_seq') FROM generate_series(1, :n)")


class IdBlocks:
    """Hands out ids from blocks of `size` reserved with one query."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._ids: deque[int] = deque()
        self._lock = threading.Lock()

    def next(self, session: Session) -> int:
        """An unused incident id."""
        with self._lock:
            if not self._ids:
                self._ids.extend(session.scalars(BLOCK, {"n": self.size}))
            return self._ids.popleft()
