-- The skills an agent's inbox is routed by (contacts' assignment rules name a skill: medical, legal, fr).
ALTER TABLE agents ADD COLUMN skills text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(skills) <= 50);
