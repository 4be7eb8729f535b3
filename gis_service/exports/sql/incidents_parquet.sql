-- Every incident for the GeoParquet export, in the order its partitions are written: town, then
-- month of the report (China time, as the reports count months), then id, so that a
-- partition's rows come together while the rows are read a chunk at a time. The columns are
-- the incident export's (layers.INCIDENT_COLUMNS; `town` is the partition `town_code`), lists
-- joined by ";" as there, times as timestamps.
SELECT town_code, to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
       id, status, source, external_id, category_code AS category, description, address,
       grid2_code AS grid2, grid3_code AS grid3, district_code AS district,
       NULLIF(array_to_string(zone_codes, ';'), '') AS zones, assignee_type, assignee_code, NULLIF(array_to_string(cooperating, ';'), '') AS cooperating,
       priority, resolution,
       satisfaction, reported_at, due_at, created_at, updated_at,
       ST_AsBinary(geom) AS geometry
FROM incident
ORDER BY town_code COLLATE "C" NULLS LAST, month, id
