-- Insights' read models, built only from the other services' events (kept in event_log for a replay),
-- units sold as imported, and the alerts with their lifecycle. Nothing here is personal data: of a case,
-- insights keeps its id, product, issue, channel, region, received date and whether a consumer is on file.
CREATE TABLE event_log (
    seq bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    source text NOT NULL,
    type text NOT NULL,
    occurred_at timestamptz NOT NULL,
    data jsonb NOT NULL,  -- the contact as insights read it (facts.to_record), never the event's payload
    taken_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE event_log IS 'append-only: every event taken, in order, so the read models can be rebuilt';

CREATE TABLE contact (
    contact_id text PRIMARY KEY,
    version integer NOT NULL,
    sku text NOT NULL,
    lot_code text NOT NULL,
    region text NOT NULL,
    issue_code text NOT NULL,
    channel text NOT NULL,
    received_on date NOT NULL,
    consumer_on_file boolean NOT NULL
);
CREATE INDEX contact_product ON contact (sku, lot_code);

CREATE TABLE sales (
    sku text NOT NULL,
    lot_code text NOT NULL,
    region text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL CHECK (period_end >= period_start),
    units bigint NOT NULL CHECK (units >= 0),
    source text NOT NULL,
    imported_by text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    -- A file sent again replaces its lines instead of counting them twice.
    PRIMARY KEY (sku, lot_code, region, period_start, period_end)
);

CREATE TABLE alert (
    id uuid PRIMARY KEY,
    method text NOT NULL,
    sku text NOT NULL,
    lot_code text NOT NULL,
    region text NOT NULL,
    issue_code text NOT NULL,
    observed double precision NOT NULL,
    expected double precision NOT NULL,
    score double precision NOT NULL,
    contact_ids text[] NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    status text NOT NULL CHECK (status IN ('new', 'acknowledged', 'investigating', 'closed', 'escalated')),
    first_raised_at timestamptz NOT NULL
);
CREATE INDEX alert_raised ON alert (first_raised_at);

CREATE TABLE alert_transition (
    id bigserial PRIMARY KEY,
    alert_id uuid NOT NULL REFERENCES alert (id),
    status text NOT NULL,
    actor text NOT NULL,
    reason text NOT NULL,
    at timestamptz NOT NULL
);
COMMENT ON TABLE alert_transition IS 'append-only: who moved an alert, to what, and why';
