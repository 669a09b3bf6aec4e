-- The languages an agent answers chats in: a chat is routed only to an agent who speaks its language.
ALTER TABLE agents ADD COLUMN languages text[] NOT NULL DEFAULT '{en}'
    CHECK (cardinality(languages) BETWEEN 1 AND 20);
