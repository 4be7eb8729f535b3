-- For each new report (its index in the batch, category, point, window start): open
-- incidents of the same category near it, reported since then. The GiST on
-- (category_code, geom) of open incidents finds the few neighbours of each (its predicate is
-- stated here word for word, so the planner can use it: migrations 0014, 0026); the sphere
-- distance decides.
SELECT q.i, d.id
FROM unnest(CAST(:i AS int[]), CAST(:category AS text[]), CAST(:lon AS float8[]),
            CAST(:lat AS float8[]), CAST(:since AS timestamptz[]))
     AS q(i, category, lon, lat, since)
CROSS JOIN LATERAL (
    SELECT id FROM incident
    WHERE category_code = q.category
      AND created_at >= q.since
      AND status IN ('accepted', 'dispatched', 'in_progress', 'needs_confirmation',
                     'needs_location', 'registered', 'reported', 'resolved', 'returned',
                     'verified')
      AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4490), :degrees)
      AND ST_DistanceSphere(geom, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4490)) <= :radius_m
    ORDER BY id
    LIMIT 10
) AS d
ORDER BY q.i, d.id
