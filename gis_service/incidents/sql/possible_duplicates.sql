-- Open incidents of the same category near a point, reported since a moment: the GiST on
-- (category_code, geom) finds the few neighbours; the sphere distance decides.
SELECT id FROM incident
WHERE category_code = %(category)s
  AND created_at >= %(since)s
  AND status = ANY(%(open_states)s::text[])
  AND id <> %(exclude)s
  AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490), %(degrees)s)
  AND ST_DistanceSphere(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4490)) <= %(radius_m)s
ORDER BY id
LIMIT 10
