-- Reply fulfillment: requests and their durable workflow, approval limits, coupons, inventory by
-- location, reservations, movements and shipments. Every step of a workflow is one transaction that
-- checks the request's state under its row lock, so a repeated step finds its work done; the unique
-- keys below (one coupon, one reservation, one shipment per request) are the second line of defence.

-- Limits per role and per agent, as data: an agent's own row overrides their role's.
CREATE TABLE approval_limit (
    scope text NOT NULL CHECK (scope IN ('role', 'agent')),
    name text NOT NULL,
    currency char(3) NOT NULL,
    max_value_minor bigint NOT NULL CHECK (max_value_minor >= 0),
    max_period_minor bigint NOT NULL CHECK (max_period_minor >= 0),
    period_days integer NOT NULL CHECK (period_days > 0),
    PRIMARY KEY (scope, name, currency)
);

INSERT INTO approval_limit (scope, name, currency, max_value_minor, max_period_minor, period_days) VALUES
    ('role', 'agent', 'USD', 2500, 5000, 30),
    ('role', 'agent', 'EUR', 2500, 5000, 30),
    ('role', 'supervisor', 'USD', 50000, 100000, 30),
    ('role', 'supervisor', 'EUR', 50000, 100000, 30),
    ('role', 'admin', 'USD', 50000, 100000, 30),
    ('role', 'admin', 'EUR', 50000, 100000, 30);

-- Coupon fraud limits (one row): coupons per consumer and per household in a period, and validity.
CREATE TABLE coupon_policy (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    max_per_consumer integer NOT NULL CHECK (max_per_consumer > 0),
    max_per_household integer NOT NULL CHECK (max_per_household > 0),
    period_days integer NOT NULL CHECK (period_days > 0),
    valid_days integer NOT NULL CHECK (valid_days > 0)
);
INSERT INTO coupon_policy VALUES (true, 2, 3, 90, 180);

CREATE TABLE fulfillment (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL,
    consumer_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('coupon', 'refund', 'replacement', 'sample', 'letter', 'return_mailer')),
    state text NOT NULL CHECK (state IN ('requested', 'awaiting_approval', 'approved', 'in_progress',
                                         'shipped', 'delivered', 'cancelled', 'failed')),
    stage text NOT NULL DEFAULT '',
    value_minor bigint NOT NULL DEFAULT 0 CHECK (value_minor >= 0),
    currency char(3) NOT NULL DEFAULT 'USD',
    sku text REFERENCES product (sku),
    quantity integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
    template text NOT NULL DEFAULT '',
    country text NOT NULL DEFAULT '',
    household_keys text[] NOT NULL DEFAULT '{}',
    requested_by text NOT NULL,
    requested_role text NOT NULL,
    decided_by text NOT NULL DEFAULT '',
    reason text NOT NULL DEFAULT '',
    idempotency_key text UNIQUE,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    escalated_at timestamptz
);
CREATE INDEX fulfillment_by_case ON fulfillment (case_id, created_at);
CREATE INDEX fulfillment_by_consumer ON fulfillment (consumer_id, created_at);
CREATE INDEX fulfillment_open ON fulfillment (state, updated_at)
    WHERE state IN ('awaiting_approval', 'approved', 'in_progress');
CREATE INDEX fulfillment_by_household ON fulfillment USING gin (household_keys) WHERE kind = 'coupon';

-- The request's own timeline: one row per change, written with the change.
CREATE TABLE fulfillment_step (
    id bigserial PRIMARY KEY,
    fulfillment_id uuid NOT NULL REFERENCES fulfillment (id),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    state text NOT NULL,
    stage text NOT NULL DEFAULT '',
    actor text NOT NULL,
    note text NOT NULL DEFAULT ''
);
CREATE INDEX fulfillment_step_by_request ON fulfillment_step (fulfillment_id, id);

CREATE TABLE coupon (
    code text PRIMARY KEY,
    fulfillment_id uuid NOT NULL UNIQUE REFERENCES fulfillment (id),
    consumer_id uuid NOT NULL,
    value_minor bigint NOT NULL CHECK (value_minor > 0),
    currency char(3) NOT NULL,
    skus text[] NOT NULL DEFAULT '{}',
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    redeemed_at timestamptz,
    redemption_reference text NOT NULL DEFAULT ''
);

CREATE TABLE location (
    id text PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('distribution_centre', 'warehouse', 'store')),
    country char(2) NOT NULL,
    region text NOT NULL DEFAULT '',
    postcode text NOT NULL DEFAULT '',
    latitude double precision,
    longitude double precision,
    serves text[] NOT NULL DEFAULT '{}'
);

-- Available = on_hand - reserved; the checks make overselling impossible whatever the code does.
CREATE TABLE stock (
    sku text NOT NULL REFERENCES product (sku),
    location_id text NOT NULL REFERENCES location (id),
    on_hand integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    CHECK (reserved <= on_hand),
    PRIMARY KEY (sku, location_id)
);

CREATE TABLE stock_movement (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    location_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('received', 'reserved', 'released', 'shipped', 'adjusted')),
    quantity integer NOT NULL,
    fulfillment_id uuid,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
-- A request reserves, releases and ships at most once each.
CREATE UNIQUE INDEX stock_movement_once ON stock_movement (fulfillment_id, kind) WHERE fulfillment_id IS NOT NULL;
CREATE INDEX stock_movement_by_product ON stock_movement (sku, occurred_at);

CREATE TABLE reservation (
    fulfillment_id uuid PRIMARY KEY REFERENCES fulfillment (id),
    sku text NOT NULL,
    location_id text NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    state text NOT NULL CHECK (state IN ('held', 'picked', 'shipped', 'released'))
);

CREATE TABLE shipment (
    fulfillment_id uuid PRIMARY KEY REFERENCES fulfillment (id),
    carrier text NOT NULL,
    tracking_number text NOT NULL,
    status text NOT NULL,
    location_id text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (carrier, tracking_number)
);
