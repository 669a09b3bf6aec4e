-- Who may act on a case and its calls depends on where the people sit: the team of whoever captured the
-- case (a supervisor's search and moves), and the extension that took a filed call (linking the call and
-- playing its recording). Rows from before keep '' and so fall to the strictest reading of each rule.
ALTER TABLE contact
    ADD COLUMN team text NOT NULL DEFAULT '',
    ADD COLUMN agent_extension text NOT NULL DEFAULT '';
CREATE INDEX contact_team_idx ON contact (team, occurred_at DESC) WHERE team <> '';
