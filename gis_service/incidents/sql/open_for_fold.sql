-- The open camera incidents a batch's detections may fold into, row-locked (an action on one
-- waits for the batch, as for any writer): those of the batch's (camera, scene) pairs in a
-- state a detection folds into, last seen late enough; oldest first. The partial index
-- ix_incident_camera_seen (camera_code, scene, last_seen_at) finds them.
SELECT {columns}
FROM incident
WHERE (camera_code, scene) IN (
        SELECT * FROM unnest(CAST(:cameras AS text[]), CAST(:scenes AS text[])))
  AND camera_code IS NOT NULL
  AND status = ANY (CAST(:states AS text[]))
  AND last_seen_at >= :since
ORDER BY last_seen_at, id
FOR UPDATE
