-- The next batch of stored incidents to re-attribute, by id (keyset: `after` is the last id of
-- the previous batch): the point, and the codes stored as comparison keys (attribution.py: ""
-- for none, special grids joined by ";" in code order). Incidents with no point are skipped.
SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       coalesce(town_code, '') AS town, coalesce(grid2_code, '') AS grid2,
       coalesce(grid3_code, '') AS grid3,
       CASE WHEN cardinality(special_codes) = 0 THEN ''
            ELSE array_to_string(ARRAY(SELECT s FROM unnest(special_codes) AS s
                                       ORDER BY s COLLATE "C"), ';') END AS special
FROM incident
WHERE id > :after AND geom IS NOT NULL
ORDER BY id
LIMIT :size
