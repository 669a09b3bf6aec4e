-- Restock prompts: each product at each location may have a reorder point, the available quantity below
-- which the supply planners are told to send more. 0 is "no point set": nothing is ever below it.
ALTER TABLE stock ADD COLUMN reorder_point integer NOT NULL DEFAULT 0 CHECK (reorder_point >= 0);
