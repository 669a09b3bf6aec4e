-- Cover thresholds for one product, one region, or one product in one region, in place of the restock
-- policy's default; and the audit of every change to the thresholds (the default's included).

-- sku '' is every product; country '' with region '' is every region. Not all three empty: that is the
-- default, in restock_policy.
CREATE TABLE restock_cover_threshold (
    sku text NOT NULL,
    country text NOT NULL,
    region text NOT NULL,
    cover_days double precision NOT NULL CHECK (cover_days > 0 AND cover_days <= 365),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, country, region),
    CHECK (sku <> '' OR region <> ''),
    CHECK ((country = '') = (region = ''))
);

-- Who changed which threshold when, with its value before and after (NULL: none, the default applied or
-- the override was removed). Scope ('', '', '') is the policy's default row.
CREATE TABLE restock_threshold_change (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    country text NOT NULL,
    region text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before jsonb,
    after jsonb
);
CREATE INDEX restock_threshold_change_by_time ON restock_threshold_change (changed_at DESC);

-- Who changed a location's reorder point for a product, when, from what to what.
CREATE TABLE reorder_point_change (
    id bigserial PRIMARY KEY,
    sku text NOT NULL,
    location_id text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before integer NOT NULL,
    after integer NOT NULL
);
CREATE INDEX reorder_point_change_by_product ON reorder_point_change (sku, changed_at DESC);
