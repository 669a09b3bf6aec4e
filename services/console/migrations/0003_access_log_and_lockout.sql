-- Who read whose personal data, who played which recording, who exported what, who changed whose role,
-- and every refused log-in: separate from the case timeline, and append-only (the console's login role
-- may insert and select here, never update or delete: services/runtime/migrate.py reads this comment).
CREATE TABLE access_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,            -- the signed-in username, or the CLI's operator ("cli:<user>")
    actor_role text NOT NULL,
    action text NOT NULL,           -- consumer.read, case.read, case.search, recording.play, export, role.change, login.failed, login.locked, account.unlock
    subject text NOT NULL DEFAULT '',  -- a consumer id, case id, call id or username
    client_address text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT ''
);
COMMENT ON TABLE access_log IS 'append-only: the access audit log';
CREATE INDEX access_log_subject ON access_log (subject, at DESC);
CREATE INDEX access_log_actor ON access_log (actor, at DESC);

-- Log-in lockout, shared by every console replica: failures since the last success, and until when the
-- account is locked (an admin lifts it with `crs agent unlock` or POST /api/agents/{username}/unlock).
ALTER TABLE agents ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN locked_until timestamptz;
