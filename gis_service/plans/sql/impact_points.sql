-- Points of one kind ({points}: id, geom) inside the changed area `area` whose grids differ
-- between the moment `at` and plan `plan_id`, per layer ('1', '2', '3' for levels, 'special').
-- Only the touched grids (`touched`) can differ: an untouched grid has the same shape on both
-- sides, so each side is joined with its touched grids alone, each polygon finding the points
-- it covers through the points' index (PostGIS prepares a repeated polygon once).
WITH area AS MATERIALIZED (
    SELECT ST_GeomFromWKB(:area, 4490) AS geom
), old_grid AS MATERIALIZED (
    SELECT code, level, geom FROM grid_version
    WHERE code = ANY(CAST(:touched AS text[]))
      AND valid_from <= :at AND (valid_to IS NULL OR valid_to > :at)
), new_grid AS MATERIALIZED (
    SELECT code, level, geom FROM plan_grid
    WHERE plan_id = :plan_id AND code = ANY(CAST(:touched AS text[]))
), old AS (
    SELECT p.id, coalesce(g.level::text, 'special') AS layer,
           string_agg(g.code, ';' ORDER BY g.code) AS codes
    FROM old_grid AS g
    JOIN ({points}) AS p ON ST_Covers(g.geom, p.geom)
    CROSS JOIN area AS a
    WHERE ST_Intersects(a.geom, p.geom)
    GROUP BY 1, 2
), new AS (
    SELECT p.id, coalesce(g.level::text, 'special') AS layer,
           string_agg(g.code, ';' ORDER BY g.code) AS codes
    FROM new_grid AS g
    JOIN ({points}) AS p ON ST_Covers(g.geom, p.geom)
    CROSS JOIN area AS a
    WHERE ST_Intersects(a.geom, p.geom)
    GROUP BY 1, 2
)
SELECT coalesce(o.id, n.id)::text AS id, coalesce(o.layer, n.layer) AS layer,
       o.codes AS old, n.codes AS new
FROM old AS o
FULL JOIN new AS n ON n.id = o.id AND n.layer = o.layer
WHERE o.codes IS DISTINCT FROM n.codes
ORDER BY coalesce(o.id, n.id), 2
