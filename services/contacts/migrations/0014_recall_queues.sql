-- Recall queues (docs/casework.md, "Recall queues"): the open and closed recalls as insights announces them
-- (recall_opened, recall_closed on insights.events; never insights' tables), and which cases each recall's
-- queue holds. A case about a recalled product and lot is routed there when it is captured or changed, and
-- the cases already open when the recall is announced are routed then.
CREATE TABLE recall_cover (
    recall_id uuid PRIMARY KEY,
    sku text NOT NULL,
    lot_codes text[] NOT NULL,  -- empty: every lot of the product
    title text NOT NULL,
    open boolean NOT NULL,
    heard_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recall_cover_open_sku ON recall_cover (sku) WHERE open;

CREATE TABLE recall_case (
    recall_id uuid NOT NULL REFERENCES recall_cover (recall_id),
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    routed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (recall_id, contact_id)
);
CREATE INDEX recall_case_contact ON recall_case (contact_id);
