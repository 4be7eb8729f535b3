-- The incidents a publication re-attributes, with their new codes and their codes before, into
-- the transaction's temporary table `reattributed` (the UPDATE in reattribute.sql writes them).
-- Incidents inside the changed area `area` take the new boundaries: reported from
-- `effective_from` on, or still open when `open_too`. Only the grids this publication touched
-- (`touched`; `fresh` are those with a new version) can change an incident's codes: a fresh
-- version covering the point names it at its level, a touched code it was recorded with that
-- no longer covers it is dropped, and codes of untouched grids stay (their shapes did not
-- change). Each fresh version finds the incidents it covers through the incident index, one
-- polygon at a time (PostGIS prepares a repeated polygon once), instead of every incident
-- probing every grid (bitmap scans, see publish.py). A town or special grid that is touched (`outer_touched`) may also give
-- up ground no fresh version takes; otherwise that search is skipped. Only incidents whose
-- codes change are kept, in id order, carrying the columns they need from the scan that
-- found them (no second look-up of the incident).
CREATE TEMPORARY TABLE reattributed ON COMMIT DROP AS
WITH area AS MATERIALIZED (
    SELECT ST_GeomFromWKB(:area, 4490) AS geom
), fresh AS MATERIALIZED (
    SELECT code, level, geom FROM grid_version
    WHERE valid_to IS NULL AND code = ANY(CAST(:fresh AS text[]))
), covering AS (
    -- grouped by the primary key, so the incident's own columns may be selected
    SELECT i.id, i.status, i.town_code, i.grid2_code, i.grid3_code, i.special_codes,
           true AS covered,
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
    SELECT i.id, i.status, i.town_code, i.grid2_code, i.grid3_code, i.special_codes,
           false AS covered, NULL::varchar AS town, NULL::varchar AS grid2,
           NULL::varchar AS grid3, NULL::varchar[] AS special
    FROM incident AS i
    CROSS JOIN area AS a
    WHERE :outer_touched
      AND (i.town_code = ANY(CAST(:touched AS text[]))
           OR i.special_codes && CAST(:touched AS varchar(64)[]))
      AND (i.reported_at >= :effective_from
           OR (:open_too AND i.status = ANY(CAST(:open_states AS text[]))))
      AND ST_Intersects(a.geom, i.geom)
), candidate AS (
    -- one row per incident (a covered one wins), in id order
    SELECT DISTINCT ON (id) * FROM (SELECT * FROM covering UNION ALL SELECT * FROM leaving) AS u
    ORDER BY id, covered DESC
)
SELECT p.* FROM (
    SELECT c.id, c.status,
           CASE WHEN c.town IS NOT NULL THEN c.town
                WHEN c.town_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE c.town_code END AS town,
           CASE WHEN c.grid2 IS NOT NULL THEN c.grid2
                WHEN c.grid2_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE c.grid2_code END AS grid2,
           CASE WHEN c.grid3 IS NOT NULL THEN c.grid3
                WHEN c.grid3_code = ANY(CAST(:touched AS text[])) THEN NULL
                ELSE c.grid3_code END AS grid3,
           CASE WHEN cardinality(c.special_codes) = 0
                     AND cardinality(coalesce(c.special, '{}')) = 0
                THEN CAST('{}' AS varchar(64)[])  -- the usual case, without a sub-query
                ELSE ARRAY(SELECT DISTINCT s
                           FROM unnest(c.special_codes || coalesce(c.special, '{}')) AS s
                           WHERE s = ANY(coalesce(c.special, '{}'))
                              OR s <> ALL(CAST(:touched AS text[]))
                           ORDER BY s)::varchar(64)[] END AS special,
           c.town_code AS old_town, c.grid2_code AS old_grid2, c.grid3_code AS old_grid3,
           c.special_codes AS old_special
    FROM candidate AS c
) AS p
WHERE p.old_town IS DISTINCT FROM p.town OR p.old_grid2 IS DISTINCT FROM p.grid2
   OR p.old_grid3 IS DISTINCT FROM p.grid3 OR p.old_special IS DISTINCT FROM p.special
ORDER BY p.id
