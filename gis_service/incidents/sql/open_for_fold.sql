-- The open camera incidents a batch's detections may fold into, row-locked (an action on one
-- waits for the batch, as for any writer): those of the batch's (camera, scene) pairs in a
-- state a detection folds into (`core/detections.FOLDS_INTO`, written out word for word as
-- the partial index ix_incident_camera_open states it: migration 0027), last seen late
-- enough; oldest first.
SELECT {columns}
FROM incident
WHERE (camera_code, scene) IN (
        SELECT * FROM unnest(CAST(:cameras AS text[]), CAST(:scenes AS text[])))
  AND camera_code IS NOT NULL
  AND status IN ('accepted', 'dispatched', 'in_progress', 'needs_confirmation',
                 'needs_location', 'registered', 'reported', 'returned')
  AND last_seen_at >= :since
ORDER BY last_seen_at, id
FOR UPDATE
