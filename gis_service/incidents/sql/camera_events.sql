-- A batch's camera events in one round trip, once their (camera, scene) pairs are locked: the
-- cameras they name (code, name, lon, lat, lens direction), the scene rows they name, and
-- which of their external ids were taken before (by an incident's own first detection, or by
-- a detection folded into one).
SELECT
    (SELECT coalesce(jsonb_agg(jsonb_build_array(code, name, ST_X(geom), ST_Y(geom),
                                                 direction)), '[]')
     FROM camera WHERE code = ANY (CAST(:codes AS text[]))) AS cameras,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(scene, category_code, min_confidence,
                                                 dwell_seconds, needs_confirmation)), '[]')
     FROM video_scene WHERE scene = ANY (CAST(:scenes AS text[]))) AS scenes,
    (SELECT coalesce(jsonb_agg(jsonb_build_array(e.external_id, e.id)), '[]')
     FROM (SELECT external_id, id FROM incident
           WHERE source = 'video' AND external_id = ANY (CAST(:external_ids AS text[]))
           UNION ALL
           SELECT external_id, incident_id FROM video_detection
           WHERE external_id = ANY (CAST(:external_ids AS text[]))) AS e) AS earlier
