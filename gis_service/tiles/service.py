"""Making tiles: a map layer's from PostGIS (the router caches them), the incidents' for the
caller's scope and filters, as counts per bin up to z11 (and up to z13 for a report window
longer than a week or none) and as points above (`tiling.counted_per_bin`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import InvalidInputError
from gis_service.incidents.core.lifecycle import ALL_STATES
from gis_service.incidents.scope import visible
from gis_service.tiles import queries
from gis_service.tiles.queries import IncidentFilters
from gis_service.tiles.tiling import Tile, counted_per_bin, split_window
from gis_service.timeutil import aware

# For this transaction: a tile query is short, but PostGIS's cost estimates are high enough
# to trigger JIT compilation, which costs more than the query (measured: +300 ms), and parallel
# workers, which made typical tiles slower (z14, 30 days: 16 → 23 ms) and compete with the
# other tiles a map asks for at the same time.
TILE_SETTINGS = text("SELECT set_config('jit', 'off', true), "
                     "set_config('max_parallel_workers_per_gather', '0', true)")


def layer_tile(session: Session, layer: str, tile: Tile, now: datetime) -> bytes:
    """A map layer's tile as valid at `now` (empty bytes when nothing is in it)."""
    session.execute(TILE_SETTINGS)
    body = session.execute(queries.LAYER_SQL[layer], queries.layer_params(tile, now)).scalar()
    return bytes(body or b"")


def incident_tile(session: Session, principal: Principal, tile: Tile, filters: IncidentFilters,
                  now: datetime, yellow_share: float) -> bytes:
    """The incidents `principal` may see in a tile (empty bytes when none)."""
    scope = visible(principal)
    if counted_per_bin(tile, filters.since, filters.until, now):
        stmt = queries.incident_bins(tile, scope, filters,
                                     split_window(filters.since, filters.until))
    else:
        stmt = queries.incident_points(tile, scope, filters, now, yellow_share)
    session.execute(TILE_SETTINGS)
    body: bytes | None = session.execute(stmt).scalar()
    return bytes(body or b"")


def incident_filters(status: str | None, category: str | None, since: datetime | None,
                     until: datetime | None) -> IncidentFilters:
    """The filters of an incident tile request; InvalidInputError for an unknown status or a
    window that ends before it starts."""
    statuses = tuple(sorted({s.strip() for s in (status or "").split(",") if s.strip()}))
    unknown = set(statuses) - ALL_STATES
    if unknown:
        raise InvalidInputError(f"unknown status {', '.join(sorted(unknown))}; "
                                f"statuses are {', '.join(sorted(ALL_STATES))}")
    since, until = aware(since), aware(until)
    if since is not None and until is not None and since >= until:
        raise InvalidInputError("since must be before until")
    return IncidentFilters(statuses, category or None, since, until)


def body_etag(body: bytes) -> str:
    """An ETag naming these bytes."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
