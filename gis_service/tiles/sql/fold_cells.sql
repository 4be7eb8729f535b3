-- Move every unfolded change into both aggregates' day rows and month rows, summed per key
-- (rows that reach zero are swept after). Rows appended while this runs stay for the next
-- fold. Answers the number of aggregate rows written.
WITH moved AS (
    DELETE FROM incident_cell_delta
    RETURNING day, cx, cy, status, town_code, grid2_code, grid3_code, district_code,
              assignee_code, cooperating, n
), periods AS (
    SELECT false AS month, day, cx, cy, status, town_code, grid2_code, grid3_code,
           district_code, assignee_code, cooperating, n
    FROM moved
    UNION ALL
    SELECT true, CAST(date_trunc('month', day) AS date), cx, cy, status, town_code,
           grid2_code, grid3_code, district_code, assignee_code, cooperating, n
    FROM moved
), by_area AS (
    INSERT INTO incident_cell AS cell
        (month, day, cx, cy, status, town_code, grid2_code, grid3_code, district_code, n)
    SELECT month, day, cx, cy, status, town_code, grid2_code, grid3_code, district_code,
           sum(n)
    FROM periods
    GROUP BY month, day, cx, cy, status, town_code, grid2_code, grid3_code, district_code
    HAVING sum(n) <> 0
    ON CONFLICT (month, day, cx, cy, status, town_code, grid2_code, grid3_code, district_code)
    DO UPDATE SET n = cell.n + excluded.n
    RETURNING 1
), by_handler AS (
    INSERT INTO incident_handler_cell AS cell
        (month, day, cx, cy, status, district_code, assignee_code, cooperating, n)
    SELECT month, day, cx, cy, status, district_code, assignee_code, cooperating, sum(n)
    FROM periods
    GROUP BY month, day, cx, cy, status, district_code, assignee_code, cooperating
    HAVING sum(n) <> 0
    ON CONFLICT (month, day, cx, cy, status, district_code, assignee_code, cooperating)
    DO UPDATE SET n = cell.n + excluded.n
    RETURNING 1
)
SELECT (SELECT count(*) FROM by_area) + (SELECT count(*) FROM by_handler)
