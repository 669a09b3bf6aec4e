-- One row per shipping notice: a parcel's (fulfillment, state), claimed by the first shipment_changed that
-- brings it, so a redelivered or replayed event finds the row and sends nothing again. `outcome` stays
-- 'pending' until the notice is sent or ends otherwise; a pending row is leased to one sender at a time.
CREATE TABLE shipping_notice (
    fulfillment_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('shipped', 'out_for_delivery', 'delivered', 'failed')),
    journey smallint NOT NULL,  -- the state's place along the parcel's journey: a later one overtakes
    consumer_id text NOT NULL,
    case_id text NOT NULL DEFAULT '',
    carrier text NOT NULL DEFAULT '',
    tracking_number text NOT NULL DEFAULT '',
    tracking_url text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    outcome text NOT NULL DEFAULT 'pending'
        CHECK (outcome IN ('pending', 'sent', 'suppressed', 'superseded', 'expired')),
    reason text NOT NULL DEFAULT '',
    attempts integer NOT NULL DEFAULT 0,
    next_try_at timestamptz NOT NULL DEFAULT now(),  -- a lease while sending, the retry time after
    decided_at timestamptz,
    PRIMARY KEY (fulfillment_id, state)
);
CREATE INDEX shipping_notice_pending ON shipping_notice (next_try_at) WHERE outcome = 'pending';
