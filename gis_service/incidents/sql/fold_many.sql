-- Stored camera incidents that detections folded into, written by one statement: each
-- incident's columns as they now are (its count, last-seen time and history head; a
-- detection that confirmed it, its routing too), their new history rows, and the external
-- ids of the folded detections (each kept once; those of incidents this batch made too, so
-- this runs after `store_many`). Parameters, each a JSON array.
WITH changed AS (
    UPDATE incident AS i SET ({columns}) = ({values})
    FROM jsonb_to_recordset(CAST(:incidents AS jsonb)) AS r({typed_columns})
    WHERE i.id = r.id
    RETURNING i.id
), history AS (
    INSERT INTO incident_event ({history_columns})
    SELECT {history_values}
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e({history_typed})
), folded AS (
    INSERT INTO video_detection (external_id, incident_id, at)
    SELECT d.external_id, d.incident_id, d.at
    FROM jsonb_to_recordset(CAST(:folded AS jsonb))
           AS d(external_id text, incident_id bigint, at timestamptz)
    ON CONFLICT (external_id) DO NOTHING
)
SELECT count(*) FROM changed
