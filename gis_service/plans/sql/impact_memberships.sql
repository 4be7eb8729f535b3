-- Level-3 grids touching the changed area `area`: the districts and special grids each shares
-- ground with (over 1 m²) at `at` and in plan `plan_id`; rows only where that differs.
WITH area AS (
    SELECT ST_GeomFromWKB(:area, 4490) AS geom
), old_grid AS (
    SELECT g.code, g.geom FROM grid_version AS g, area AS a
    WHERE g.level = 3 AND g.valid_from <= :at AND (g.valid_to IS NULL OR g.valid_to > :at)
      AND ST_Intersects(g.geom, a.geom)
), new_grid AS (
    SELECT g.code, g.geom FROM plan_grid AS g, area AS a
    WHERE g.plan_id = :plan_id AND g.level = 3 AND ST_Intersects(g.geom, a.geom)
), old_member AS (
    SELECT g.code, 'district' AS kind, d.code AS member
    FROM old_grid AS g JOIN district AS d ON ST_Intersects(g.geom, d.geom)
    WHERE ST_Area(ST_Intersection(g.geom, d.geom)::geography) > 1
    UNION ALL
    SELECT g.code, 'special', s.code
    FROM old_grid AS g JOIN grid_version AS s
      ON s.level IS NULL AND s.valid_from <= :at AND (s.valid_to IS NULL OR s.valid_to > :at)
     AND ST_Intersects(g.geom, s.geom)
    WHERE ST_Area(ST_Intersection(g.geom, s.geom)::geography) > 1
), new_member AS (
    SELECT g.code, 'district' AS kind, d.code AS member
    FROM new_grid AS g JOIN district AS d ON ST_Intersects(g.geom, d.geom)
    WHERE ST_Area(ST_Intersection(g.geom, d.geom)::geography) > 1
    UNION ALL
    SELECT g.code, 'special', s.code
    FROM new_grid AS g JOIN plan_grid AS s
      ON s.plan_id = :plan_id AND s.level IS NULL AND ST_Intersects(g.geom, s.geom)
    WHERE ST_Area(ST_Intersection(g.geom, s.geom)::geography) > 1
)
SELECT coalesce(o.code, n.code) AS code, coalesce(o.kind, n.kind) AS kind,
       coalesce(o.member, n.member) AS member,
       CASE WHEN o.code IS NULL THEN 'joined' ELSE 'left' END AS change
FROM old_member AS o
FULL JOIN new_member AS n ON n.code = o.code AND n.kind = o.kind AND n.member = o.member
WHERE o.code IS NULL OR n.code IS NULL
ORDER BY 1, 2, 3
