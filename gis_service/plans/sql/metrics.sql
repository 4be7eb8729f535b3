-- Per grid of plan `plan_id`: ellipsoidal area and perimeter, the address points it covers
-- (all; enterprises; those without a POI name, i.e. dwellings) and the incidents reported
-- since `since` it covers. The counts are materialized: a plan's rows are often too new for
-- the planner's statistics, and an inlined count would be re-run once per grid.
WITH points AS MATERIALIZED (
    SELECT g.id,
           count(*) AS address_points,
           count(*) FILTER (WHERE a.attributes ->> 'kind' IN ('enterprise', 'company')
                                  OR a.poi ~ '(公司|厂|企业)') AS enterprises,
           count(*) FILTER (WHERE coalesce(a.poi, '') = '') AS dwellings
    FROM address_point AS a
    JOIN plan_grid AS g ON g.plan_id = :plan_id AND ST_Covers(g.geom, a.geom)
    GROUP BY g.id
), reported AS MATERIALIZED (
    SELECT g.id, count(*) AS incidents
    FROM plan_grid AS g
    JOIN incident AS i ON ST_Covers(g.geom, i.geom)
    WHERE g.plan_id = :plan_id AND i.reported_at >= :since
    GROUP BY g.id
)
SELECT g.code,
       ST_Area(g.geom::geography) AS area_m2,
       ST_Perimeter(g.geom::geography) AS perimeter_m,
       coalesce(p.address_points, 0) AS address_points,
       coalesce(p.enterprises, 0) AS enterprises,
       coalesce(p.dwellings, 0) AS dwellings,
       coalesce(r.incidents, 0) AS incidents_12m
FROM plan_grid AS g
LEFT JOIN points AS p ON p.id = g.id
LEFT JOIN reported AS r ON r.id = g.id
WHERE g.plan_id = :plan_id
ORDER BY g.code
