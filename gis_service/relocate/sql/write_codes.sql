-- Write a batch's new codes (only the incidents whose codes changed) and answer each written
-- incident's status and codes before, for the history of the open ones (publish.settle_open).
-- An incident moved since the batch was read (its point differs) is left alone: its intake or
-- action placed it against the boundaries of its own time. Rows are locked in id order, as
-- the publication's UPDATE writes them (reattribute.sql).
WITH new AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]),
                         CAST(:town AS text[]), CAST(:grid2 AS text[]), CAST(:grid3 AS text[]),
                         CAST(:special AS text[]))
           AS n(id, lon, lat, town, grid2, grid3, special)
), before AS (
    SELECT i.id, i.status, i.town_code, i.grid2_code, i.grid3_code, i.special_codes
    FROM incident AS i
    JOIN new AS n ON n.id = i.id AND ST_X(i.geom) = n.lon AND ST_Y(i.geom) = n.lat
    ORDER BY i.id
    FOR UPDATE OF i
)
UPDATE incident AS i
SET town_code = n.town, grid2_code = n.grid2, grid3_code = n.grid3,
    special_codes = CAST(string_to_array(n.special, ';') AS varchar(64)[])
FROM new AS n
JOIN before AS b ON b.id = n.id
WHERE i.id = n.id
RETURNING i.id, b.status, b.town_code AS town, b.grid2_code AS grid2, b.grid3_code AS grid3,
          b.special_codes AS special
