-- What a consumer bought and when, from fulfillment's order events (never its tables), and each reminder
-- cycle: the key names consumer, product and the order the cycle starts from, so a cycle reminds once.
CREATE TABLE purchase (
    order_id text NOT NULL,
    sku text NOT NULL,
    consumer_id text NOT NULL,
    ordered_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX purchase_consumer_sku ON purchase (consumer_id, sku, ordered_at);

CREATE TABLE reorder_reminder (
    key text PRIMARY KEY,
    consumer_id text NOT NULL,
    sku text NOT NULL,
    last_order_at timestamptz NOT NULL,  -- the order the cycle starts from
    expected_at timestamptz NOT NULL,
    remind_at timestamptz NOT NULL,
    sent_at timestamptz,
    held_back text NOT NULL DEFAULT ''
);
