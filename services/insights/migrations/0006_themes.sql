-- Verbatims grouped by theme. Each case's verbatim is kept redacted (domain/redaction.py: the reporter's
-- details and anything shaped like an email, phone, street address or card number replaced; lot codes
-- kept), beside the `contact` read model whose product, issue and received date scope it. It is not in
-- event_log: an erasure must be able to take it away, and event_log is append-only.
CREATE TABLE contact_verbatim (
    contact_id text PRIMARY KEY,
    version integer NOT NULL,
    language text NOT NULL,
    verbatim text NOT NULL,
    -- The case lost its person (contacts' `contacts_anonymised`): its text is gone, and a later event
    -- about the case never brings it back.
    anonymised_at timestamptz
);
COMMENT ON TABLE contact_verbatim IS 'redacted verbatims; emptied when contacts anonymises the case';

-- The last themes computed per scope, so the dashboard does not cluster on every view. Dropped whenever a
-- verbatim is anonymised: a run's labels and counts come from the verbatims it was computed from.
CREATE TABLE theme_run (
    id uuid PRIMARY KEY,
    scope_key text NOT NULL,
    scope jsonb NOT NULL,
    computed_at timestamptz NOT NULL,
    representation text NOT NULL,
    verbatims integer NOT NULL,
    themes jsonb NOT NULL
);
CREATE INDEX theme_run_scope ON theme_run (scope_key, computed_at DESC);
