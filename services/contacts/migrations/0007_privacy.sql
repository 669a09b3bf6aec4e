-- The erasure workflow (services/contacts/privacy/workflow.py): the request, kept as the receipt, and one
-- step per service. No personal data: the consumer id points at nothing once the erasure is done, and
-- the person recorded is the one who asked.
CREATE TABLE erasure_request (
    id uuid PRIMARY KEY,
    consumer_id uuid NOT NULL,
    requested_by text NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    requested_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'done')),
    completed_at timestamptz
);
CREATE INDEX erasure_request_unfinished ON erasure_request (requested_at) WHERE state = 'in_progress';

CREATE TABLE erasure_step (
    erasure_id uuid NOT NULL REFERENCES erasure_request (id),
    position smallint NOT NULL,
    service text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    erased jsonb NOT NULL DEFAULT '{}',
    attempts integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    finished_at timestamptz,
    PRIMARY KEY (erasure_id, service)
);

-- Retention policies as data: how long each kind of personal data is kept; 0 days keeps it.
CREATE TABLE retention_policy (
    kind text PRIMARY KEY CHECK (kind IN ('recordings', 'unidentified_callers', 'closed_case_personal_data')),
    days integer NOT NULL CHECK (days >= 0),
    updated_by text NOT NULL DEFAULT 'system',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO retention_policy (kind, days) VALUES
    ('recordings', 0), ('unidentified_callers', 0), ('closed_case_personal_data', 0);

-- What each sweep removed, by kind: counts only.
CREATE TABLE retention_sweep (
    id uuid PRIMARY KEY,
    ran_at timestamptz NOT NULL,
    removed jsonb NOT NULL
);
