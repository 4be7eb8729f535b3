"""PostgreSQL advisory-lock keys, in one place so that no two features share one by accident
(transaction-scoped: `pg_advisory_xact_lock` / `pg_try_advisory_xact_lock`)."""

from __future__ import annotations

BOUNDARIES = 0x67726964  # "grid": one boundary import or plan publication at a time
TILE_FOLD = 7007  # one process folds the tile aggregate's change table at a time
