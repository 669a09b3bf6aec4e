-- The number a filed call came from, as telephony gave it (E.164, or empty when withheld), so a filed call
-- can be shown on its own and not only through the consumer it was matched to.
ALTER TABLE contact ADD COLUMN caller_number text NOT NULL DEFAULT '';
