-- The transactional outbox: events are written here in the same transaction as the change they report,
-- and the relay publishes them to the broker with confirms, then deletes them.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    exchange text NOT NULL,
    routing_key text NOT NULL,
    correlation_id text,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Events already handled by this service's consumers: consumers are idempotent on the event id.
CREATE TABLE processed_event (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
