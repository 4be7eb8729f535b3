"""Serving map-layer tiles from memory: what each layer's data looks like now (its stamp,
re-checked at most every `check_seconds`), and the tiles already made for that stamp."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from gis_service.tiles.cells import owns_connections
from gis_service.tiles.queries import LAYER_STAMPS, LAYERS

TileKey = tuple[str, int, int, int, str]  # layer, z, x, y, the layer's stamp


class LayerStamps:
    """Per layer, a short hash of what its tiles depend on (`sql/layer_stamps.sql`)."""

    def __init__(self, session_factory: sessionmaker[Session], check_seconds: float) -> None:
        self._factory = session_factory
        # sessions sharing one connection (tests) are never used from a background thread
        self._check = check_seconds if owns_connections(session_factory) else 0.0
        self._lock = threading.Lock()
        self._stamps: dict[str, str] | None = None
        self._checked_at = 0.0

    def fresh(self) -> dict[str, str] | None:
        """The stamps without waiting on the database: when a check is due, one background
        thread re-checks while callers keep the stamps they have (at most one check period
        plus a query old). None when they must be read first (`current`)."""
        stamps = self._stamps
        if stamps is None or self._check <= 0:
            return None
        if time.monotonic() >= self._checked_at + self._check and not self._lock.locked():
            threading.Thread(target=self.current, daemon=True).start()
        return stamps

    def current(self) -> dict[str, str]:
        """The stamps, read from the database when the last check is due."""
        with self._lock:
            if self._stamps is not None and time.monotonic() < self._checked_at + self._check:
                return self._stamps
            with self._factory() as session:
                row = session.execute(LAYER_STAMPS, {"now": datetime.now(UTC)}).one()
            self._stamps = {layer: _digest(f"{row.change}|{getattr(row, layer)}")
                            for layer in LAYERS}
            self._checked_at = time.monotonic()
            return self._stamps


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


class TileCache:
    """Recently made tiles, least recently used dropped first, up to `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[TileKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: TileKey) -> bytes | None:
        """The tile when cached (and mark it used)."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: TileKey, tile: bytes) -> None:
        """Keep a tile; tiles of an older stamp are never asked for again and age out."""
        if len(tile) > self.max_bytes:
            return
        with self._lock:
            old = self._tiles.pop(key, None)
            self._bytes += len(tile) - (len(old) if old is not None else 0)
            self._tiles[key] = tile
            while self._bytes > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)


@dataclass(frozen=True)
class TileState:
    """The app's map-layer stamps and tile cache."""

    stamps: LayerStamps
    cache: TileCache


def tile_state(factory: sessionmaker[Session], check_seconds: float, cache_mib: float) -> TileState:
    """The stamps and cache an app starts with."""
    return TileState(LayerStamps(factory, check_seconds), TileCache(int(cache_mib * 2**20)))
