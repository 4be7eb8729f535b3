-- What each map layer's tiles depend on, to key the tile cache: the newest layer change (every
-- import writes one), and per layer its rows' count and newest edit; for grids, the ids of the
-- versions valid at :now (a published version takes effect at its own time).
SELECT (SELECT coalesce(max(id), 0) FROM layer_change) AS change,
       (SELECT md5(coalesce(string_agg(id::text, ',' ORDER BY id), ''))
        FROM grid_version
        WHERE valid_from <= :now AND (valid_to IS NULL OR valid_to > :now)) AS grids,
       (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM district)
           AS districts,
       (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM zone) AS zones,
       (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM project) AS projects,
       (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM station) AS stations,
       (SELECT count(*) || '@' || coalesce(max(updated_at)::text, '') FROM camera) AS cameras
