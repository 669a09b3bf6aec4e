-- What an agent is skilled in, for routing chats: among the free agents who speak a chat's language, one
-- with the chat's skill (product_safety for a safety matter; else the topic of the assistant's article:
-- where_to_buy, how_to_use, ingredients, promotions, recall) is preferred.
ALTER TABLE agents ADD COLUMN skills text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(skills) <= 20);
