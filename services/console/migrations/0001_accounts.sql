-- Who may use the console: agents and supervisors, their extensions and teams, and their sessions.
-- (Until this release these tables lived in the screenpop schema; accounts are created anew with
-- `crs agent add` or `crs seed --demo`.)
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
