-- Incidents inside the changed area `area` that take the new boundaries: reported from
-- `effective_from` on, or still open when `open_too`. Only the grids this publication touched
-- (`touched`; `fresh` are those with a new version) can change an incident's codes: a fresh
-- version covering the point names it at its level, a touched code it was recorded with that
-- no longer covers it is dropped, and codes of untouched grids stay (their shapes did not
-- change). Each fresh version finds the incidents it covers through the incident index, one
-- polygon at a time (PostGIS prepares a repeated polygon once), instead of every incident
-- probing every grid. Only rows whose codes change are written. One row back: how many
-- changed, and the open ones with their codes before.
WITH area AS MATERIALIZED (
    SELECT ST_GeomFromWKB(:area, 4490) AS geom
), fresh AS MATERIALIZED (
    SELECT code, level, geom FROM grid_version
    WHERE valid_to IS NULL AND code = ANY(CAST(:fresh AS text[]))
), covering AS MATERIALIZED (
    SELECT i.id,
           min(f.code) FILTER (WHERE f.level = 1) AS town,
           min(f.code) FILTER (WHERE f.level = 2) AS grid2,
           min(f.code) FILTER (WHERE f.level = 3) AS grid3,
           coalesce(array_agg(f.code ORDER BY f.code) FILTER (WHERE f.level IS NULL),
                    '{}') AS special
    FROM fresh AS f
    JOIN incident AS i ON ST_Covers(f.geom, i.geom)
    CROSS JOIN area AS a
    WHERE (i.reported_at >= :effective_from
           OR (:open_too AND i.status = ANY(CAST(:open_states AS text[]))))
      AND ST_Intersects(a.geom, i.geom)
    GROUP BY i.id
), leaving AS (
    -- a town outline or a special grid may give up ground that no fresh version takes
    SELECT i.id
    FROM incident AS i
    CROSS JOIN area AS a
    WHERE (i.town_code = ANY(CAST(:touched AS text[]))
           OR i.special_codes && CAST(:touched AS varchar(64)[]))
      AND (i.reported_at >= :effective_from
           OR (:open_too AND i.status = ANY(CAST(:open_states AS text[]))))
      AND ST_Intersects(a.geom, i.geom)
), placed AS (
    SELECT i.id,
           CASE WHEN c.town IS NOT NULL THEN c.town
                WHEN i.town_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE i.town_code END AS town,
           CASE WHEN c.grid2 IS NOT NULL THEN c.grid2
                WHEN i.grid2_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE i.grid2_code END AS grid2,
           CASE WHEN c.grid3 IS NOT NULL THEN c.grid3
                WHEN i.grid3_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE i.grid3_code END AS grid3,
           ARRAY(SELECT DISTINCT s FROM unnest(i.special_codes || coalesce(c.special, '{}'))
                 AS s
                 WHERE s = ANY(coalesce(c.special, '{}'))
                    OR s <> ALL(CAST(:touched AS text[]))
                 ORDER BY s)::varchar(64)[] AS special,
           i.status, i.town_code AS old_town, i.grid2_code AS old_grid2,
           i.grid3_code AS old_grid3, i.special_codes AS old_special
    FROM (SELECT id FROM covering UNION SELECT id FROM leaving) AS k
    JOIN incident AS i ON i.id = k.id
    LEFT JOIN covering AS c ON c.id = k.id
), moved AS (
    UPDATE incident AS i
    SET town_code = p.town, grid2_code = p.grid2, grid3_code = p.grid3,
        special_codes = p.special
    FROM placed AS p
    WHERE i.id = p.id
      AND (p.old_town IS DISTINCT FROM p.town OR p.old_grid2 IS DISTINCT FROM p.grid2
           OR p.old_grid3 IS DISTINCT FROM p.grid3 OR p.old_special IS DISTINCT FROM p.special)
    RETURNING i.id, p.status, p.old_town, p.old_grid2, p.old_grid3, p.old_special
)
SELECT (SELECT count(*) FROM moved) AS changed,
       coalesce(jsonb_agg(jsonb_build_object(
           'id', m.id, 'town', m.old_town, 'grid2', m.old_grid2, 'grid3', m.old_grid3,
           'special', m.old_special) ORDER BY m.id)
           FILTER (WHERE m.status = ANY(CAST(:open_states AS text[]))), '[]') AS open
FROM moved AS m
