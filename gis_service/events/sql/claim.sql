-- The due deliveries of enabled subscriptions, oldest first, that no earlier message of the
-- same incident (or plan) waits before for the same subscription; locked for the claiming
-- transaction, skipping rows another worker holds. The ids are chosen first (the partial
-- indexes on pending deliveries, migration 0021), and only the chosen rows read their
-- message: a backlog of thousands is not joined and sorted whole each round.
WITH due AS (
    SELECT d.id
    FROM webhook_delivery d
    JOIN webhook_subscription s ON s.id = d.subscription_id AND s.enabled
    WHERE d.status = 'pending' AND d.next_try_at <= :now
      AND NOT EXISTS (
          SELECT 1 FROM webhook_delivery e
          WHERE e.status = 'pending' AND e.subscription_id = d.subscription_id
            AND e.ordering_key = d.ordering_key AND e.message_id < d.message_id)
    ORDER BY d.next_try_at, d.id
    LIMIT :batch
    FOR UPDATE OF d SKIP LOCKED
)
SELECT d.id, d.subscription_id, d.attempts, m.uid, m.payload, s.url, s.secret,
       s.contact_allowed
FROM due
JOIN webhook_delivery d ON d.id = due.id
JOIN webhook_message m ON m.id = d.message_id
JOIN webhook_subscription s ON s.id = d.subscription_id
ORDER BY d.next_try_at, d.id
