-- The product catalogue, orders with their lines, and a per-consumer tally of products bought, kept up
-- to date in the same transaction as each order, so "bought most often" is read, never aggregated.
CREATE TABLE product (
    sku text PRIMARY KEY,
    upc text UNIQUE,
    name text NOT NULL,
    category text NOT NULL DEFAULT '',
    size text NOT NULL DEFAULT ''
);
-- The catalogue is a company's own range (hundreds to a few thousand SKUs), so the name search
-- (a substring match) scans it; SKU and UPC lookups go through their keys.

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    consumer_id uuid NOT NULL,
    placed_at timestamptz NOT NULL,
    channel text NOT NULL CHECK (channel IN ('web', 'phone', 'retail', 'marketplace')),
    status text NOT NULL,
    currency char(3) NOT NULL,
    total_minor bigint NOT NULL
);
CREATE INDEX orders_by_consumer ON orders (consumer_id, placed_at DESC, id DESC);

CREATE TABLE order_line (
    order_id uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no smallint NOT NULL,
    sku text NOT NULL REFERENCES product (sku),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE consumer_product (
    consumer_id uuid NOT NULL,
    sku text NOT NULL REFERENCES product (sku),
    orders integer NOT NULL,
    units integer NOT NULL,
    last_bought_at timestamptz NOT NULL,
    PRIMARY KEY (consumer_id, sku)
);
CREATE INDEX consumer_product_ranked ON consumer_product (consumer_id, orders DESC, units DESC, last_bought_at DESC);
