-- Who may use the console: agents and supervisors, their extensions and teams, and their sessions.
CREATE TABLE teams (
    id text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE agents (
    id uuid PRIMARY KEY,
    username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{1,64}$'),
    display_name text NOT NULL,
    -- argon2id, in the encoded form argon2-cffi writes (parameters and salt included).
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('agent', 'supervisor')),
    team_id text REFERENCES teams (id),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The extension an agent sits at; one agent per extension, an agent may move desks.
CREATE TABLE extensions (
    extension text PRIMARY KEY CHECK (extension ~ '^[0-9A-Za-z_+-]{1,32}$'),
    agent_id uuid NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE
);

-- Only a hash of the token is stored: a leaked table gives no usable session.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('browser', 'api')),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Calls seen, so a retransmitted or re-published ringing pops once, and a call that ended before its
-- pop was composed does not pop at all.
CREATE TABLE calls_seen (
    call_id text PRIMARY KEY,
    extension text NOT NULL,
    rung_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);
CREATE INDEX calls_seen_rung_at ON calls_seen (rung_at);

-- The pop of the call ringing or in progress at each extension, for a page that reconnects or reloads.
CREATE TABLE current_pops (
    extension text PRIMARY KEY,
    call_id text NOT NULL,
    pop jsonb NOT NULL,
    state text NOT NULL DEFAULT 'ringing' CHECK (state IN ('ringing', 'answered')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
