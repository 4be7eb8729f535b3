-- A round's deliveries answered 2xx, each with its status: one statement for the batch.
UPDATE webhook_delivery AS d
SET status = 'delivered', attempts = d.attempts + 1, last_status = a.status,
    last_error = NULL, last_try_at = :now, delivered_at = :now
FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS smallint[])) AS a(id, status)
WHERE d.id = a.id
