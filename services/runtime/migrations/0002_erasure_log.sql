-- Erasures this service has carried out, by the workflow's erasure id: asked again, it answers with the
-- first answer and erases nothing twice. Counts only; nothing here names a person.
CREATE TABLE erasure_log (
    erasure_id uuid PRIMARY KEY,
    erased jsonb NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now()
);
