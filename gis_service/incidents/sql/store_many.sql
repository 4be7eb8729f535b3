-- Reports taken in together, written by one statement (one round trip, one commit for all:
-- group commit). Rows whose (source, external_id) is stored already, or repeated earlier in
-- the same batch, are skipped with their history and links; the caller reads the earlier
-- incident. Parameters, each a JSON array: the incidents (their columns by name, lon and lat
-- in the storage CRS), their history rows, and possible-duplicate links (`fresh`: the other
-- incident is one of this batch, so it must have been stored too).
WITH stored AS (
    INSERT INTO incident ({columns}, geom)
    SELECT {columns},
           CASE WHEN r.lon IS NULL THEN NULL
                ELSE ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4490) END
    FROM jsonb_to_recordset(CAST(:incidents AS jsonb)) AS r({typed_columns})
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING id, created_at
), history AS (
    INSERT INTO incident_event ({history_columns})
    SELECT {history_values}
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e({history_typed})
    JOIN stored ON stored.id = e.incident_id
), linked AS (
    INSERT INTO incident_link (incident_id, other_id, kind, created_at)
    SELECT l.incident_id, l.other_id, 'possible_duplicate', stored.created_at
    FROM jsonb_to_recordset(CAST(:links AS jsonb)) AS l(incident_id bigint, other_id bigint,
                                                   fresh boolean)
    JOIN stored ON stored.id = l.incident_id
    WHERE NOT l.fresh OR l.other_id IN (SELECT id FROM stored)
)
SELECT id FROM stored
