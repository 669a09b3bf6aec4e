-- Session tokens are signed JWTs now (services/console/tokens.py) whose jti is this row's id; the row is
-- still checked on every request, so that disabling an agent or changing a password ends their tokens.
-- The opaque tokens issued before end here: their holders log in again.
DELETE FROM sessions;
ALTER TABLE sessions DROP CONSTRAINT sessions_pkey;
ALTER TABLE sessions DROP COLUMN token_hash;
ALTER TABLE sessions ADD COLUMN id uuid PRIMARY KEY;
CREATE INDEX sessions_agent ON sessions (agent_id);
