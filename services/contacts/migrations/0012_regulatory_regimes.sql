-- Regulatory clocks (docs/casework.md, "Regulatory clocks"): the reporting regimes a health-and-safety
-- case falls under, and the holidays business days skip. Both are data an admin edits (PutRegime,
-- PutHoliday); a regime is retired with active = false, never deleted, so a filed case keeps its meaning.

-- An adverse event of a dietary supplement, drug or cosmetic: what FDA MedWatch reports are about.
INSERT INTO issue_code (code, parent, label, severity, auto_escalate, position) VALUES
    ('complaint.illness_injury.adverse_event', 'complaint.illness_injury',
     'Adverse event (supplement, drug, cosmetic)', 'critical', true, 54)
ON CONFLICT (code) DO NOTHING;

CREATE TABLE regulatory_regime (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    authority text NOT NULL CHECK (length(authority) BETWEEN 1 AND 200),
    form text NOT NULL DEFAULT '',
    -- Which cases: an issue code or anything under it, at this severity or worse ('' for any).
    issue_prefixes text[] NOT NULL CHECK (cardinality(issue_prefixes) > 0),
    min_severity text NOT NULL DEFAULT '' CHECK (min_severity IN ('', 'low', 'medium', 'high', 'critical')),
    -- Due this long after the company learned of it (the case's received time).
    deadline_amount int NOT NULL CHECK (deadline_amount BETWEEN 1 AND 1000),
    deadline_unit text NOT NULL CHECK (deadline_unit IN ('business_days', 'hours')),
    -- Legal is warned this long before the due time.
    warn_amount int NOT NULL CHECK (warn_amount BETWEEN 0 AND 1000),
    warn_unit text NOT NULL CHECK (warn_unit IN ('business_days', 'hours')),
    -- The case fields the regime's form needs, in the form's order (the export holds exactly these).
    form_fields text[] NOT NULL DEFAULT '{}',
    -- Who is told of a deadline near: the legal stakeholders' addresses, as the event names them.
    notify text[] NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true,
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE business_holiday (
    day date PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120)
);

INSERT INTO regulatory_regime (code, name, authority, form, issue_prefixes, min_severity, deadline_amount,
                               deadline_unit, warn_amount, warn_unit, form_fields, notify) VALUES
    ('fda_medwatch_supplement', 'Serious adverse event, dietary supplement', 'FDA',
     'MedWatch 3500A', ARRAY['complaint.illness_injury.adverse_event'], 'high', 15, 'business_days',
     2, 'business_days',
     ARRAY['reference', 'received_at', 'report_due_at', 'reporter.name', 'reporter.phone', 'reporter.email',
           'product.name', 'product.sku', 'product.upc', 'product.lot_code', 'product.best_by',
           'product.purchased_on', 'issue_path', 'severity', 'verbatim', 'notes'],
     ARRAY['legal@example.com']),
    ('cpsc_15b', 'Substantial product hazard', 'CPSC', 'Section 15(b) report',
     ARRAY['complaint.illness_injury.injury', 'complaint.quality.foreign_object.glass'], '', 24, 'hours',
     6, 'hours',
     ARRAY['reference', 'received_at', 'report_due_at', 'product.name', 'product.sku', 'product.upc',
           'product.lot_code', 'product.produced_on', 'product.purchase_store', 'product.purchase_location',
           'issue_path', 'severity', 'verbatim'],
     ARRAY['legal@example.com']);

-- United States federal holidays as observed (a Saturday's on the Friday before, a Sunday's on the Monday).
INSERT INTO business_holiday (day, name) VALUES
    ('2026-01-01', 'New Year''s Day'), ('2026-01-19', 'Martin Luther King Jr. Day'),
    ('2026-02-16', 'Washington''s Birthday'), ('2026-05-25', 'Memorial Day'),
    ('2026-06-19', 'Juneteenth'), ('2026-07-03', 'Independence Day (observed)'),
    ('2026-09-07', 'Labor Day'), ('2026-10-12', 'Columbus Day'), ('2026-11-11', 'Veterans Day'),
    ('2026-11-26', 'Thanksgiving Day'), ('2026-12-25', 'Christmas Day'),
    ('2027-01-01', 'New Year''s Day'), ('2027-01-18', 'Martin Luther King Jr. Day'),
    ('2027-02-15', 'Washington''s Birthday'), ('2027-05-31', 'Memorial Day'),
    ('2027-06-18', 'Juneteenth (observed)'), ('2027-07-05', 'Independence Day (observed)'),
    ('2027-09-06', 'Labor Day'), ('2027-10-11', 'Columbus Day'), ('2027-11-11', 'Veterans Day'),
    ('2027-11-25', 'Thanksgiving Day'), ('2027-12-24', 'Christmas Day (observed)');
