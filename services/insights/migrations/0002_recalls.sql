-- Recalls opened by quality assurance: the product, its lots and regions, and what agents may say.
-- No personal data: the tally is computed from read models, never stored per consumer here.
CREATE TABLE recall (
    id uuid PRIMARY KEY,
    sku text NOT NULL,
    lot_codes text[] NOT NULL,  -- empty: every lot of the product
    regions text[] NOT NULL,    -- empty: every region
    title text NOT NULL,
    script text[] NOT NULL,
    consumer_message text NOT NULL,
    alert_id uuid REFERENCES alert (id),
    status text NOT NULL CHECK (status IN ('open', 'closed')),
    opened_by text NOT NULL,
    opened_at timestamptz NOT NULL,
    closed_by text NOT NULL DEFAULT '',
    closed_at timestamptz,
    close_reason text NOT NULL DEFAULT ''
);
CREATE INDEX recall_open_sku ON recall (sku) WHERE status = 'open';
