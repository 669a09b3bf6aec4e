-- Chat lines are case messages too, on the channel "chat": the transcript is the case's verbatim history.
-- Email threading and replies read the email channel's messages only.
ALTER TABLE message ADD COLUMN channel text NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'chat'));
ALTER TABLE message ADD COLUMN chat_id text NOT NULL DEFAULT '';
