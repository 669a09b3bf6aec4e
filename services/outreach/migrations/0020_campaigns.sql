-- Segments and campaigns. A segment's definition is data (services/outreach/segments.py says its shape).
CREATE TABLE segment (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    definition jsonb NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- `key` makes a campaign opened by an event (a recall) exist once however often the event is delivered.
CREATE TABLE campaign (
    id uuid PRIMARY KEY,
    key text UNIQUE,
    kind text NOT NULL CHECK (kind IN ('marketing', 'recall')),
    name text NOT NULL,
    segment_id uuid REFERENCES segment (id),
    subject text NOT NULL,
    body text NOT NULL,
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'tested', 'running', 'paused', 'finished')),
    rate_per_second integer NOT NULL DEFAULT 50 CHECK (rate_per_second > 0),
    tested_to text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);

-- One row per recipient, made once: the primary key is what stops a second message. A row in 'sending'
-- whose lease ran out belongs to a sender that died; the next claim takes it again, and the idempotency
-- key it is sent with lets channels recognise a message it already sent.
CREATE TABLE campaign_recipient (
    campaign_id uuid NOT NULL REFERENCES campaign (id) ON DELETE CASCADE,
    consumer_id uuid NOT NULL,
    email text NOT NULL,
    time_zone text NOT NULL DEFAULT 'UTC',
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'deferred', 'suppressed', 'failed')),
    due_at timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    reason text NOT NULL DEFAULT '',
    done_at timestamptz,
    PRIMARY KEY (campaign_id, consumer_id)
);
CREATE INDEX campaign_recipient_due ON campaign_recipient (campaign_id, due_at)
    WHERE status IN ('pending', 'deferred', 'sending');

-- Read models from other services' events, for segments and recalls.
CREATE TABLE purchase_fact (
    order_id text NOT NULL,
    consumer_id uuid NOT NULL,
    sku text NOT NULL,
    lot_code text NOT NULL DEFAULT '',
    region text NOT NULL DEFAULT '',
    placed_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, sku, lot_code)
);
CREATE INDEX purchase_fact_by_sku ON purchase_fact (sku, region);

CREATE TABLE contact_fact (
    contact_id uuid PRIMARY KEY,
    consumer_id uuid,
    issue_code text NOT NULL DEFAULT '',
    sku text NOT NULL DEFAULT '',
    lot_code text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL
);
CREATE INDEX contact_fact_by_sku ON contact_fact (sku);
CREATE INDEX contact_fact_by_lot ON contact_fact (lot_code) WHERE lot_code <> '';
