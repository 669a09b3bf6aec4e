-- The consumer read model, fed by contacts' consumer events (never contacts' tables): what a sender needs to
-- reach a consumer, and what segments select on. `updated_at` is the consumer's own change time from the
-- event, so a redelivered older event does not overwrite a newer one.
CREATE TABLE consumer (
    consumer_id uuid PRIMARY KEY,
    email text NOT NULL DEFAULT '',
    language text NOT NULL DEFAULT 'en',
    time_zone text NOT NULL DEFAULT 'UTC',
    region text NOT NULL DEFAULT '',
    attributes jsonb NOT NULL DEFAULT '{}',
    postal_address jsonb,
    updated_at timestamptz NOT NULL
);
CREATE INDEX consumer_by_region ON consumer (region);

-- Consent as it stands, per consumer, purpose and channel. A purpose and channel with no row takes the
-- default of services/outreach/consent.py. Every change is also a `consent_changed` event in the outbox.
CREATE TABLE consent (
    consumer_id uuid NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('service', 'surveys', 'marketing', 'recall')),
    channel text NOT NULL CHECK (channel IN ('email', 'letter')),
    granted boolean NOT NULL,
    source text NOT NULL CHECK (source IN ('agent', 'unsubscribe_link', 'import', 'web_form')),
    changed_by text NOT NULL DEFAULT '',
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (consumer_id, purpose, channel)
);
