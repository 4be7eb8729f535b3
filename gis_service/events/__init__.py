"""Events out: changes written to an outbox in the transaction that makes them, matched to the
subscriptions that want them, and delivered as signed Standard Webhooks with retries."""
