-- Survey sending rules (data an admin edits), the surveys sent, and their answers. A survey keeps the case's
-- team, agent and channel as they were when it was sent, because the answer's event reports on those.
CREATE TABLE survey_rule (
    id text PRIMARY KEY,
    name text NOT NULL,
    trigger text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('csat', 'nps', 'poll')),
    issue_prefix text NOT NULL DEFAULT '',
    delay_minutes integer NOT NULL CHECK (delay_minutes >= 0),
    suppress_days integer NOT NULL CHECK (suppress_days >= 0),
    questions jsonb NOT NULL DEFAULT '[]',
    enabled boolean NOT NULL DEFAULT true,
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE survey (
    id text PRIMARY KEY,
    fire_key text NOT NULL UNIQUE,  -- rule and case: a rule fires once per trigger
    rule_id text NOT NULL,
    kind text NOT NULL,
    questions jsonb NOT NULL DEFAULT '[]',
    case_id text NOT NULL,
    consumer_id text NOT NULL,
    language text NOT NULL,
    team text NOT NULL,
    agent text NOT NULL,
    channel text NOT NULL,
    triggered_at timestamptz NOT NULL,
    send_at timestamptz NOT NULL,
    sent_at timestamptz,
    held_back text NOT NULL DEFAULT ''  -- why it was not sent (suppressed, no consent), '' when sent or due
);
CREATE INDEX survey_consumer_sent ON survey (consumer_id, sent_at DESC);

CREATE TABLE survey_answer (
    id text PRIMARY KEY,
    survey_id text NOT NULL UNIQUE REFERENCES survey (id) ON DELETE CASCADE,  -- the first answer counts
    score integer NOT NULL,
    scores jsonb NOT NULL,
    comment text NOT NULL DEFAULT '',
    answered_at timestamptz NOT NULL
);
