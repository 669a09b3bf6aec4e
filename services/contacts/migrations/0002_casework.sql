-- Casework: a contact becomes a coded case with a product, an issue, a verbatim and a workflow.
-- Code tables are data: codes are deactivated, never deleted, so old contacts keep their meaning.

CREATE TABLE issue_code (
    -- A dotted path from the top of the tree: complaint.quality.foreign_object.plastic
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}(\.[a-z0-9_]{1,40}){0,5}$'),
    parent text REFERENCES issue_code (code),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 120),
    severity text NOT NULL DEFAULT 'low' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    -- Health and safety: always the highest severity, and escalated at once.
    auto_escalate boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent IS NULL) = (position('.' in code) = 0))
);

CREATE TABLE action_code (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 120),
    -- Taking this action answers the consumer: it stops the first-response clock.
    is_response boolean NOT NULL DEFAULT false,
    active boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Statuses are data too; each belongs to one stage of the fixed workflow, whose transitions the code enforces.
CREATE TABLE contact_status (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 120),
    stage text NOT NULL CHECK (stage IN ('new', 'in_progress', 'awaiting_consumer', 'awaiting_fulfillment',
                                         'resolved', 'closed')),
    active boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Due times by issue (a code prefix; '' for any) and severity (NULL for any); the most specific wins.
CREATE TABLE sla_policy (
    id serial PRIMARY KEY,
    issue_prefix text NOT NULL DEFAULT '',
    severity text CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    first_response interval NOT NULL,
    resolution interval NOT NULL,
    active boolean NOT NULL DEFAULT true,
    UNIQUE (issue_prefix, severity)
);

INSERT INTO contact_status (code, label, stage, position) VALUES
    ('new', 'New', 'new', 10),
    ('in_progress', 'In progress', 'in_progress', 20),
    ('referred_qa', 'With quality assurance', 'in_progress', 25),
    ('referred_legal', 'With legal or regulatory', 'in_progress', 26),
    ('awaiting_consumer', 'Awaiting consumer', 'awaiting_consumer', 30),
    ('awaiting_sample', 'Awaiting the product sample back', 'awaiting_consumer', 35),
    ('awaiting_fulfillment', 'Awaiting fulfillment', 'awaiting_fulfillment', 40),
    ('resolved', 'Resolved', 'resolved', 50),
    ('closed', 'Closed', 'closed', 60);

INSERT INTO action_code (code, label, is_response, position) VALUES
    ('replied', 'Replied to the consumer', true, 10),
    ('called_back', 'Called the consumer back', true, 15),
    ('letter_sent', 'Letter or email template sent', true, 20),
    ('fulfillment_requested', 'Fulfillment requested', false, 30),
    ('coupon_sent', 'Coupon or voucher sent', false, 31),
    ('refund_sent', 'Refund sent', false, 32),
    ('replacement_sent', 'Replacement product sent', false, 33),
    ('sample_requested', 'Sample requested back for analysis', false, 40),
    ('mailer_sent', 'Prepaid mailer sent', false, 41),
    ('escalated', 'Escalated to a supervisor', false, 50),
    ('referred_qa', 'Referred to quality assurance', false, 60),
    ('referred_legal', 'Referred to legal or regulatory', false, 70),
    ('closed_no_action', 'Closed without further action', false, 90);

INSERT INTO issue_code (code, parent, label, severity, auto_escalate, position) VALUES
    ('question', NULL, 'Question', 'low', false, 10),
    ('question.where_to_buy', 'question', 'Where to buy', 'low', false, 11),
    ('question.how_to_use', 'question', 'How to use', 'low', false, 12),
    ('question.ingredients', 'question', 'Ingredients, allergens, nutrition', 'medium', false, 13),
    ('question.promotions', 'question', 'Promotions and coupons', 'low', false, 14),
    ('complaint', NULL, 'Complaint', 'medium', false, 20),
    ('complaint.quality', 'complaint', 'Quality', 'medium', false, 21),
    ('complaint.quality.taste_odour', 'complaint.quality', 'Taste or odour', 'medium', false, 22),
    ('complaint.quality.texture', 'complaint.quality', 'Texture', 'medium', false, 23),
    ('complaint.quality.foreign_object', 'complaint.quality', 'Foreign object', 'high', false, 24),
    ('complaint.quality.foreign_object.plastic', 'complaint.quality.foreign_object', 'Plastic', 'high', false, 25),
    ('complaint.quality.foreign_object.metal', 'complaint.quality.foreign_object', 'Metal', 'high', false, 26),
    ('complaint.quality.foreign_object.glass', 'complaint.quality.foreign_object', 'Glass', 'critical', true, 27),
    ('complaint.quality.foreign_object.insect', 'complaint.quality.foreign_object', 'Insect', 'high', false, 28),
    ('complaint.quality.foreign_object.hair', 'complaint.quality.foreign_object', 'Hair', 'medium', false, 29),
    ('complaint.quality.mould_spoilage', 'complaint.quality', 'Mould or spoilage', 'high', false, 30),
    ('complaint.packaging', 'complaint', 'Packaging', 'medium', false, 40),
    ('complaint.packaging.leaking', 'complaint.packaging', 'Leaking', 'medium', false, 41),
    ('complaint.packaging.damaged', 'complaint.packaging', 'Damaged', 'low', false, 42),
    ('complaint.packaging.hard_to_open', 'complaint.packaging', 'Hard to open', 'low', false, 43),
    ('complaint.packaging.under_filled', 'complaint.packaging', 'Under-filled', 'medium', false, 44),
    ('complaint.illness_injury', 'complaint', 'Illness or injury', 'critical', true, 50),
    ('complaint.illness_injury.illness', 'complaint.illness_injury', 'Illness after use', 'critical', true, 51),
    ('complaint.illness_injury.allergic_reaction', 'complaint.illness_injury', 'Allergic reaction', 'critical', true, 52),
    ('complaint.illness_injury.injury', 'complaint.illness_injury', 'Injury', 'critical', true, 53),
    ('compliment', NULL, 'Compliment', 'low', false, 60),
    ('compliment.product', 'compliment', 'Product', 'low', false, 61),
    ('compliment.service', 'compliment', 'Service', 'low', false, 62),
    ('suggestion', NULL, 'Suggestion', 'low', false, 70),
    ('suggestion.product', 'suggestion', 'Product idea', 'low', false, 71),
    ('suggestion.packaging', 'suggestion', 'Packaging idea', 'low', false, 72);

INSERT INTO sla_policy (issue_prefix, severity, first_response, resolution) VALUES
    ('', NULL, '2 days', '10 days'),
    ('question', NULL, '1 day', '3 days'),
    ('compliment', NULL, '3 days', '14 days'),
    ('suggestion', NULL, '3 days', '14 days'),
    ('complaint', NULL, '1 day', '7 days'),
    ('', 'high', '4 hours', '3 days'),
    ('', 'critical', '1 hour', '1 day');

-- The contact grows into a case. A call filed by telephony stays a contact with no issue code until an
-- agent codes it; a case captured during the call links the call by its id.
ALTER TABLE contact
    ADD COLUMN reference bigint GENERATED ALWAYS AS IDENTITY,
    ADD COLUMN reporter_name text NOT NULL DEFAULT '',
    ADD COLUMN reporter_email text NOT NULL DEFAULT '',
    ADD COLUMN reporter_phone text NOT NULL DEFAULT '',
    ADD COLUMN product_sku text NOT NULL DEFAULT '',
    ADD COLUMN product_upc text NOT NULL DEFAULT '',
    ADD COLUMN product_name text NOT NULL DEFAULT '',
    ADD COLUMN lot_code text NOT NULL DEFAULT '',
    ADD COLUMN best_by date,
    ADD COLUMN produced_on date,
    ADD COLUMN purchase_store text NOT NULL DEFAULT '',
    ADD COLUMN purchase_location text NOT NULL DEFAULT '',
    ADD COLUMN purchased_on date,
    ADD COLUMN issue_code text REFERENCES issue_code (code),
    ADD COLUMN severity text CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    ADD COLUMN action_codes text[] NOT NULL DEFAULT '{}',
    ADD COLUMN verbatim text NOT NULL DEFAULT '',
    ADD COLUMN notes text NOT NULL DEFAULT '',
    ADD COLUMN language text NOT NULL DEFAULT 'en',
    ADD COLUMN search_config regconfig NOT NULL DEFAULT 'simple',
    ADD COLUMN verbatim_tsv tsvector GENERATED ALWAYS AS (to_tsvector(search_config, verbatim)) STORED,
    ADD COLUMN assignee text NOT NULL DEFAULT '',
    ADD COLUMN escalated boolean NOT NULL DEFAULT false,
    ADD COLUMN escalation_reason text NOT NULL DEFAULT '',
    ADD COLUMN created_by text NOT NULL DEFAULT 'system',
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN first_response_at timestamptz,
    ADD COLUMN resolved_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN response_due_at timestamptz,
    ADD COLUMN resolution_due_at timestamptz,
    ADD COLUMN sla_breached_at timestamptz,
    ADD COLUMN sla_breach text NOT NULL DEFAULT '',
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT contact_status_fk FOREIGN KEY (status) REFERENCES contact_status (code),
    ADD CONSTRAINT contact_channel_check CHECK (channel IN ('phone', 'email', 'letter', 'chat', 'web')),
    ADD CONSTRAINT contact_direction_check CHECK (direction IN ('inbound', 'outbound'));

CREATE UNIQUE INDEX contact_reference_idx ON contact (reference);
CREATE INDEX contact_verbatim_tsv_idx ON contact USING gin (verbatim_tsv);
CREATE INDEX contact_occurred_idx ON contact (occurred_at DESC, id);
CREATE INDEX contact_issue_idx ON contact (issue_code text_pattern_ops, occurred_at DESC);
CREATE INDEX contact_product_idx ON contact (product_sku, lot_code, occurred_at DESC) WHERE product_sku <> '';
CREATE INDEX contact_lot_idx ON contact (lot_code) WHERE lot_code <> '';
CREATE INDEX contact_status_idx ON contact (status, occurred_at DESC);
CREATE INDEX contact_escalated_idx ON contact (occurred_at) WHERE escalated;
-- The SLA sweep visits only contacts that can still breach.
CREATE INDEX contact_sla_open_idx ON contact (response_due_at, resolution_due_at)
    WHERE sla_breached_at IS NULL AND resolved_at IS NULL AND issue_code IS NOT NULL;

-- Calls linked to a case: the call may be filed after the case was captured, so the link is by call id.
CREATE TABLE contact_call (
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    call_id text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, call_id)
);
CREATE INDEX contact_call_call_idx ON contact_call (call_id);

-- Every change to a contact: who, when, what, before and after. The audit timeline.
CREATE TABLE contact_event (
    id bigserial PRIMARY KEY,
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    kind text NOT NULL,
    changes jsonb NOT NULL DEFAULT '{}',
    note text NOT NULL DEFAULT ''
);
CREATE INDEX contact_event_contact_idx ON contact_event (contact_id, id);
