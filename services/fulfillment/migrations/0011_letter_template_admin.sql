-- Letter templates edited by an admin: a retired template stays for the letters already printed from it,
-- and is no longer offered for new ones.
ALTER TABLE letter_template ADD COLUMN retired_at timestamptz;

-- Who changed which letter template (name, language) when, with its text before and after (NULL: none).
CREATE TABLE letter_template_change (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    language text NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    before jsonb,
    after jsonb
);
CREATE INDEX letter_template_change_by_time ON letter_template_change (changed_at DESC);
