"""PostgreSQL advisory-lock keys, in one place so that no two features share one by accident
(transaction-scoped: `pg_advisory_xact_lock` / `pg_try_advisory_xact_lock`)."""

from __future__ import annotations

BOUNDARIES = 0x67726964  # "grid": one boundary import or plan publication at a time
TILE_FOLD = 7007  # one process folds the tile aggregate's change table at a time
# one camera's detections of one scene are folded by one transaction at a time: the first key of
# the two-key form (`pg_advisory_xact_lock(VIDEO_FOLD, <hash of camera and scene>)`), whose key
# space is apart from the one-key form's (incidents/video.py)
VIDEO_FOLD = 0x76696465  # "vide"
