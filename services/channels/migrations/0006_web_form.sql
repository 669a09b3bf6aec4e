-- The public web form's rate limit: one token bucket per client address, shared by every replica, so
-- that two channels processes enforce one limit. A bucket left alone refills; full ones are forgotten.
CREATE TABLE web_form_bucket (
    client text PRIMARY KEY,
    tokens double precision NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX web_form_bucket_updated_idx ON web_form_bucket (updated_at);

-- Suggestions shown on the form, one row per automated answer (knowledge's answer_log id), and what the
-- consumer did: said an article answered them (deflected: counted once), sent the form after seeing them
-- (submitted), or sent it after saying one had answered them (reopened).
CREATE TABLE web_form_answer (
    answer_id bigint PRIMARY KEY,
    article_ids text[] NOT NULL,
    top_score double precision NOT NULL,
    language text NOT NULL DEFAULT '',
    offered_at timestamptz NOT NULL DEFAULT now(),
    outcome text CHECK (outcome IN ('deflected', 'submitted', 'reopened')),
    article_id text NOT NULL DEFAULT '',
    decided_at timestamptz
);
CREATE INDEX web_form_answer_offered_idx ON web_form_answer (offered_at);
