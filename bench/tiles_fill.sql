-- :n incidents made from the demo town's own: each copy keeps the demo incident's category,
-- grids and handler, is moved up to ~15 m (the demo's hotspots stay) and is reported at a
-- random moment of the last year; stored in time order (as they would arrive); older than ten
-- days closed, newer ones spread over the open states. (The random values are computed in
-- the select list: in a LATERAL subquery the planner may memoize them per demo incident.)
INSERT INTO incident (source, external_id, category_code, description, lon, lat, geom,
    reported_at, status, priority, town_code, grid2_code, grid3_code, district_code,
    zone_codes, special_codes, assignee_type, assignee_code, cooperating, respond_due_at,
    due_at, history_head, version, created_at, updated_at)
SELECT 'bench', 'B' || m.copy || '-' || m.id, m.category_code, '', m.x, m.y,
       ST_SetSRID(ST_MakePoint(m.x, m.y), 4490), m.at,
       CASE WHEN m.at < now() - interval '10 days' THEN 'closed'
            ELSE (ARRAY['dispatched', 'accepted', 'in_progress', 'resolved', 'verified',
                        'closed'])[1 + floor(m.pick * 6)::int] END,
       m.priority, m.town_code, m.grid2_code, m.grid3_code, m.district_code, m.zone_codes,
       m.special_codes, m.assignee_type, m.assignee_code, m.cooperating,
       m.at + (m.respond_due_at - m.reported_at), m.at + (m.due_at - m.reported_at), '', 1,
       m.at, m.at
FROM (
    SELECT d.*, d.lon + (random() - 0.5) * 0.0003 AS x, d.lat + (random() - 0.5) * 0.0003 AS y,
           now() - random() * interval '365 days' AS at, random() AS pick
    FROM (SELECT d.*, copy FROM incident AS d CROSS JOIN generate_series(1, :copies) AS copy
          WHERE d.geom IS NOT NULL AND d.source <> 'bench'
          ORDER BY random() LIMIT :n) AS d
) AS m
ORDER BY m.at
