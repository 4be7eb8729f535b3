-- One fan-out step of the delivery worker, run under its advisory lock (delivery.fan_out):
-- the oldest messages not yet fanned out (the partial index of migration 0029), in id order,
-- get one pending delivery per enabled subscription that selects them, and are stamped
-- fanned, all in this one statement's transaction. A subscription selects a message by its
-- event types, and optionally its sources, areas and assignees (none = everything); a
-- message's areas gain the county its town lies in (the town's level-0 parent), looked up
-- only for a subscription that selects by area. A message no subscription selects is only
-- stamped. The deliveries take their ids in message order.
WITH batch AS MATERIALIZED (
    SELECT id, type, ordering_key, source, town, areas, assignee
    FROM webhook_message
    WHERE fanned_at IS NULL
    ORDER BY id
    LIMIT :batch
), fanned AS (
    INSERT INTO webhook_delivery (subscription_id, message_id, ordering_key, status,
                                  attempts, next_try_at, created_at)
    SELECT s.id, m.id, m.ordering_key, 'pending', 0, :now, :now
    FROM batch m JOIN webhook_subscription s
      ON s.enabled AND m.type = ANY (s.events)
     AND (s.sources IS NULL OR m.source = ANY (s.sources))
     AND (s.assignees IS NULL OR m.assignee = ANY (s.assignees))
     AND (s.areas IS NULL OR s.areas && (coalesce(m.areas, '{}') || ARRAY(
             SELECT g.parent_code FROM grid_version g
             WHERE g.code = m.town AND g.level = 1 AND g.valid_to IS NULL
               AND g.parent_code IS NOT NULL)))
    ORDER BY m.id, s.id
    RETURNING 1
), marked AS (
    UPDATE webhook_message AS w SET fanned_at = :now
    FROM batch WHERE w.id = batch.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS messages, (SELECT count(*) FROM fanned) AS deliveries
