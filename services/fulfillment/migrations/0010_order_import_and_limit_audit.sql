-- Orders imported from a shop's or marketplace's system: known by that system's order id, so importing
-- the same file again adds nothing; a till sale often has no known consumer.
ALTER TABLE orders ADD COLUMN source_order_id text;
CREATE UNIQUE INDEX orders_by_source_id ON orders (source_order_id) WHERE source_order_id IS NOT NULL;
ALTER TABLE orders ALTER COLUMN consumer_id DROP NOT NULL;

-- An imported sale at a location after its last count takes the units from its stock: a 'sold' movement.
ALTER TABLE stock_movement DROP CONSTRAINT stock_movement_kind_check;
ALTER TABLE stock_movement ADD CONSTRAINT stock_movement_kind_check
    CHECK (kind IN ('received', 'reserved', 'released', 'shipped', 'adjusted', 'sold'));

-- Who changed which approval limit when, with its values before and after (NULL: none, or removed).
CREATE TABLE approval_limit_change (
    id bigserial PRIMARY KEY,
    scope text NOT NULL,
    name text NOT NULL,
    currency char(3) NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before jsonb,
    after jsonb
);
CREATE INDEX approval_limit_change_by_time ON approval_limit_change (changed_at DESC);

-- Who changed the coupon fraud limits when, with their values before and after.
CREATE TABLE coupon_policy_change (
    id bigserial PRIMARY KEY,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before jsonb NOT NULL,
    after jsonb NOT NULL
);
