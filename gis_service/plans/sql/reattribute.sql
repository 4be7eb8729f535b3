-- Write the new codes of the incidents in `reattributed` (reattribute_locate.sql). Writing is
-- what costs: each written row adds an entry to every one of `incident`'s indexes, so the rows
-- are written in id order (the temporary table's order, whether the plan looks each one up by
-- id or hashes `incident`), and the heap and the B-tree indexes (keyed by id, by time, or by
-- a code then id) fill page after page instead of at random. Nothing is returned: the count
-- is the statement's, and the open incidents' codes before are in `reattributed`.
UPDATE incident AS i
SET town_code = r.town, grid2_code = r.grid2, grid3_code = r.grid3, special_codes = r.special
FROM reattributed AS r
WHERE i.id = r.id
