-- Messages of one transaction's changes, written with the change and nothing else: the
-- outbox row is stored in the change's transaction, so nothing is told that was not stored
-- and nothing stored goes untold; the delivery worker fans it out to the subscriptions that
-- select it (fanout.sql) after the change has committed. `:messages` is a JSON array in the
-- order the events happened (`ord`); the messages take their ids in that order, which is the
-- order they are fanned out and delivered in per `ordering_key`. Each keeps what
-- subscriptions select by: its source, its areas (with the town), the town (whose county the
-- fan-out looks up) and its assignee.
INSERT INTO webhook_message (uid, type, ordering_key, incident_id, version, at, payload,
                             source, town, areas, assignee)
SELECT m.uid, m.type, m.ordering_key, m.incident_id, m.version, m.at, m.payload,
       m.source, m.town, m.areas, m.assignee
FROM jsonb_to_recordset(CAST(:messages AS jsonb))
       AS m(ord int, uid text, type text, ordering_key text, incident_id bigint,
            version int, at timestamptz, payload jsonb, source text, town text,
            areas text[], assignee text)
ORDER BY m.ord
