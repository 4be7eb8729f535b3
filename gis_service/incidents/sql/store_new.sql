-- A new incident, its first history rows and its possible-duplicate links in one statement
-- (one round trip). Nothing is written when (source, external_id) is stored already: the
-- caller then reads the earlier incident. Parameters: the incident's columns by name, lon and
-- lat (storage CRS), the history rows as parallel arrays (JSON as text), and the ids of
-- possible duplicates.
WITH stored AS (
    INSERT INTO incident ({columns}, geom)
    VALUES ({values},
            CASE WHEN %(lon)s::float8 IS NULL THEN NULL
                 ELSE ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4490) END)
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING id, created_at
), history AS (
    INSERT INTO incident_event (incident_id, seq, at, actor, action, before, after, note,
                                detail, prev_hash, hash)
    SELECT stored.id, e.seq, e.at, e.actor, e.action, e.before, e.after, e.note, e.detail,
           e.prev_hash, e.hash
    FROM stored,
         unnest(%(e_seq)s::int[], %(e_at)s::timestamptz[], %(e_actor)s::text[],
                %(e_action)s::text[], %(e_before)s::text[]::jsonb[],
                %(e_after)s::text[]::jsonb[], %(e_note)s::text[], %(e_detail)s::text[]::jsonb[],
                %(e_prev_hash)s::text[], %(e_hash)s::text[])
           AS e(seq, at, actor, action, before, after, note, detail, prev_hash, hash)
), linked AS (
    INSERT INTO incident_link (incident_id, other_id, kind, created_at)
    SELECT stored.id, other, 'possible_duplicate', stored.created_at
    FROM stored, unnest(%(duplicates)s::bigint[]) AS other
)
SELECT id FROM stored
