-- Notices: email tied to no case (outreach's campaigns, surveys, reminders), kept apart from the case
-- messages so nothing that reads a case's conversation ever meets them. One row per idempotency key: the
-- same key again finds the row the first call made and sends nothing. The row is its own outbox entry,
-- delivered with the same relay and retries as replies.
CREATE TABLE notice (
    id bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    message_id text NOT NULL UNIQUE,
    to_address text NOT NULL,
    subject text NOT NULL,
    language text NOT NULL DEFAULT '',
    purpose text NOT NULL CHECK (purpose IN ('service', 'survey', 'marketing', 'recall')),
    list_unsubscribe text NOT NULL DEFAULT '',
    mime bytea NOT NULL,
    delivery text NOT NULL DEFAULT 'queued' CHECK (delivery IN ('queued', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX notice_outbox_idx ON notice (next_attempt_at) WHERE delivery = 'queued';
