-- Messages of one transaction's changes, each stored only if an enabled subscription selects
-- it, with one pending delivery per such subscription: the outbox row and the fan-out are
-- written with the change, so nothing is told that was not stored and nothing stored goes
-- untold. `:messages` is a JSON array in the order the events happened (`ord`); the messages
-- take their ids in that order, which is the order they are delivered in per `ordering_key`.
-- A message's areas gain the county its town lies in (the town's level-0 parent), looked up
-- only for a subscription that selects by area.
WITH m AS (
    SELECT m.*
    FROM jsonb_to_recordset(CAST(:messages AS jsonb))
           AS m(ord int, uid text, type text, ordering_key text, incident_id bigint,
                version int, at timestamptz, payload jsonb, source text, town text,
                areas text[], assignee text)
), matched AS (
    SELECT m.uid, s.id AS subscription_id
    FROM m JOIN webhook_subscription s
      ON s.enabled AND m.type = ANY (s.events)
     AND (s.sources IS NULL OR m.source = ANY (s.sources))
     AND (s.assignees IS NULL OR m.assignee = ANY (s.assignees))
     AND (s.areas IS NULL OR s.areas && (m.areas || ARRAY(
             SELECT g.parent_code FROM grid_version g
             WHERE g.code = m.town AND g.level = 1 AND g.valid_to IS NULL
               AND g.parent_code IS NOT NULL)))
), stored AS (
    INSERT INTO webhook_message (uid, type, ordering_key, incident_id, version, at, payload)
    SELECT m.uid, m.type, m.ordering_key, m.incident_id, m.version, m.at, m.payload
    FROM m WHERE m.uid IN (SELECT uid FROM matched)
    ORDER BY m.ord
    RETURNING id, uid, ordering_key
)
INSERT INTO webhook_delivery (subscription_id, message_id, ordering_key, status, attempts,
                              next_try_at, created_at)
SELECT matched.subscription_id, stored.id, stored.ordering_key, 'pending', 0, :now, :now
FROM matched JOIN stored ON stored.uid = matched.uid
