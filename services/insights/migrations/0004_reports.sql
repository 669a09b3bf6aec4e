-- The operational reports' read models, from casework's case events and outreach's survey answers
-- (kept in event_log for a replay, as the contact read model is). Staff and coded facts only: the team and
-- agent who worked a case, never who the consumer is (the survey event's consumer_id is not kept).
CREATE TABLE case_work (
    case_id text PRIMARY KEY,
    version integer NOT NULL,
    team text NOT NULL,
    agent text NOT NULL,
    channel text NOT NULL,
    issue_code text NOT NULL,
    created_at timestamptz NOT NULL,
    stage text NOT NULL,
    escalated boolean NOT NULL,
    calls integer NOT NULL,
    first_response_seconds double precision,  -- NULL: not answered yet
    resolution_seconds double precision,      -- NULL: not resolved, or reopened
    sla_breach text NOT NULL
);
CREATE INDEX case_work_created ON case_work (created_at);

CREATE TABLE survey_rating (
    answer_id text PRIMARY KEY,
    case_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('csat', 'nps')),
    score integer NOT NULL,
    answered_at timestamptz NOT NULL,
    team text NOT NULL,
    agent text NOT NULL,
    channel text NOT NULL
);
CREATE INDEX survey_rating_answered ON survey_rating (answered_at);
