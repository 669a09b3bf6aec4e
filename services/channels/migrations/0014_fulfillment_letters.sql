-- Fulfillment's letters sent by email (SendLetter): at most one message per fulfillment, so a retry of
-- the call finds the message the first one queued instead of sending the letter twice.
ALTER TABLE message ADD COLUMN fulfillment_id uuid;
CREATE UNIQUE INDEX message_fulfillment_idx ON message (fulfillment_id) WHERE fulfillment_id IS NOT NULL;
