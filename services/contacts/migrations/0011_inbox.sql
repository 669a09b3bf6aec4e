-- One inbox for every channel: who holds a case while answering it, follow-ups with their reminders, and
-- the assignment rules that route open cases to a team and a skill (docs/casework.md, "The inbox").

-- A claim: the one agent answering a case now. One row per case at most, so two claims of one case
-- cannot both stand; a claim past expires_at is void and the next claim replaces it.
CREATE TABLE case_claim (
    contact_id uuid PRIMARY KEY REFERENCES contact (id) ON DELETE CASCADE,
    agent text NOT NULL,
    claimed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > claimed_at)
);
CREATE INDEX case_claim_agent_idx ON case_claim (agent, expires_at);

-- A follow-up task on a case: a text, an assignee and a due time. reminded_at is set once, in the same
-- transaction as the reminder's outbox event, so a reminder fires once, across restarts and replicas.
CREATE TABLE case_follow_up (
    id uuid PRIMARY KEY,
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    assignee text NOT NULL,
    body text NOT NULL,
    due_at timestamptz NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'cancelled')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    closed_by text NOT NULL DEFAULT '',
    closed_at timestamptz,
    reminded_at timestamptz
);
CREATE INDEX case_follow_up_contact_idx ON case_follow_up (contact_id, due_at);
CREATE INDEX case_follow_up_assignee_idx ON case_follow_up (assignee, due_at) WHERE state = 'open';
CREATE INDEX case_follow_up_unreminded_idx ON case_follow_up (due_at) WHERE state = 'open' AND reminded_at IS NULL;

-- Assignment rules: the first active rule (lowest position) whose conditions all hold for an open case
-- routes it to a team and, when named, to the agents with a skill. Empty conditions match anything.
CREATE TABLE inbox_rule (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    position int NOT NULL DEFAULT 100,
    channel text NOT NULL DEFAULT '',
    language text NOT NULL DEFAULT '',
    issue_prefix text NOT NULL DEFAULT '',
    team text NOT NULL DEFAULT '',
    skill text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_rule_order_idx ON inbox_rule (position, id) WHERE active;
CREATE INDEX contact_open_assignee_idx ON contact (assignee) WHERE assignee <> '';
