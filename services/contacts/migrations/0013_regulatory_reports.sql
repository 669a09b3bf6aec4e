-- A case's regulatory report as filed, and the deadline warnings sent (docs/casework.md, "Regulatory clocks").

-- Marked by the person who filed the report with the authority: when, and the authority's reference.
CREATE TABLE case_regulatory_report (
    contact_id uuid PRIMARY KEY REFERENCES contact (id) ON DELETE CASCADE,
    regime text NOT NULL REFERENCES regulatory_regime (code),
    reported_at timestamptz NOT NULL,
    reported_by text NOT NULL,
    reference text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL
);

-- One warning per case and regime: written in the same transaction as its outbox event, so the warning
-- fires once across restarts and replicas.
CREATE TABLE regulatory_warning (
    contact_id uuid NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    regime text NOT NULL REFERENCES regulatory_regime (code),
    due_at timestamptz NOT NULL,
    warned_at timestamptz NOT NULL,
    PRIMARY KEY (contact_id, regime)
);
