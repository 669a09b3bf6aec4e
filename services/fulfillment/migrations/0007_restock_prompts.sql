-- Restock prompts from sell-through: where an order was sold or shipped from, the where-to-buy lookups
-- that found no stocked store near the consumer, the thresholds a planner sets, and the prompts raised.

-- The store an order was sold at, or the location it was shipped from; NULL when the order came without
-- one (it then counts toward no region's sell-through).
ALTER TABLE orders ADD COLUMN location_id text REFERENCES location (id);
CREATE INDEX orders_by_location ON orders (location_id, placed_at) WHERE location_id IS NOT NULL;

-- Movements are read by time across products when sell-through is measured.
CREATE INDEX stock_movement_by_time ON stock_movement (occurred_at) WHERE kind IN ('reserved', 'released');

-- A where-to-buy lookup with no stocked store near the consumer, or a contact coded "can't find it":
-- a miss for the product in the consumer's region (the region of our location nearest to them).
CREATE TABLE where_to_buy_miss (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    country char(2) NOT NULL,
    region text NOT NULL,
    source text NOT NULL CHECK (source IN ('where_to_buy', 'contact')),
    -- A contact's miss is counted once however often its case event is delivered.
    source_id text,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX where_to_buy_miss_by_time ON where_to_buy_miss (occurred_at);
CREATE UNIQUE INDEX where_to_buy_miss_once ON where_to_buy_miss (source, source_id) WHERE source_id IS NOT NULL;

-- The thresholds (one row, data a planner or admin changes): days of cover below which a region is
-- prompted, the trailing window sell-through and misses are measured over, and when misses count as
-- climbing (at least `min_misses` in the window and more than `miss_factor` times the window's usual
-- count, the average over the `baseline_windows` windows before it).
CREATE TABLE restock_policy (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    cover_days double precision NOT NULL CHECK (cover_days > 0),
    window_days integer NOT NULL CHECK (window_days BETWEEN 1 AND 365),
    baseline_windows integer NOT NULL CHECK (baseline_windows BETWEEN 1 AND 52),
    miss_factor double precision NOT NULL CHECK (miss_factor >= 1),
    min_misses integer NOT NULL CHECK (min_misses >= 1),
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO restock_policy (cover_days, window_days, baseline_windows, miss_factor, min_misses)
VALUES (7, 14, 4, 2, 3);

-- A prompt per product and region while its condition holds: raised once, its figures refreshed at each
-- evaluation, cleared when the condition no longer holds. At most one open prompt per product and region.
CREATE TABLE restock_prompt (
    id uuid PRIMARY KEY,
    sku text NOT NULL REFERENCES product (sku),
    country char(2) NOT NULL,
    region text NOT NULL,
    reasons text[] NOT NULL,
    units_sold integer NOT NULL,
    available integer NOT NULL,
    misses integer NOT NULL,
    usual_misses double precision NOT NULL,
    window_days integer NOT NULL,
    cover_threshold_days double precision NOT NULL,
    raised_at timestamptz NOT NULL,
    evaluated_at timestamptz NOT NULL,
    cleared_at timestamptz
);
CREATE UNIQUE INDEX restock_prompt_open ON restock_prompt (sku, country, region) WHERE cleared_at IS NULL;
