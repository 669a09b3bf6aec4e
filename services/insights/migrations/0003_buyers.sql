-- Who bought what, from fulfillment's order_placed events: the buyers of a recalled product. A consumer is
-- an opaque id here and nothing else about them is kept; one row per order line's product, so an event
-- delivered twice counts once. Orders name products, not lots.
CREATE TABLE buyer (
    order_id text NOT NULL,
    sku text NOT NULL,
    consumer_id text NOT NULL,
    region text NOT NULL,
    placed_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX buyer_sku ON buyer (sku, region);
