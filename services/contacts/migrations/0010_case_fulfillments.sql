-- The case's fulfillments as fulfillment's events tell them: the furthest state heard of per request. A
-- case awaits fulfillment while one is open, and goes back to the status it had when the last one ends.
CREATE TABLE case_fulfillment (
    fulfillment_id uuid PRIMARY KEY,
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    kind text NOT NULL,
    state text NOT NULL CHECK (state IN ('requested', 'awaiting_approval', 'approved', 'in_progress', 'shipped',
                                         'delivered', 'cancelled', 'failed')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_fulfillment_contact_idx ON case_fulfillment (contact_id);

-- While the case awaits fulfillment: the status it had, to go back to.
ALTER TABLE contact ADD COLUMN status_before_fulfillment text NOT NULL DEFAULT '';
