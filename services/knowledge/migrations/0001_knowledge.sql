-- Knowledge-base articles with their versions, the log of automated answers, thresholds an admin edits,
-- and the versions of the issue-code model.
CREATE TABLE article (
    id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
    product_sku text NOT NULL DEFAULT '',            -- '' is an article for all products
    kind text NOT NULL CHECK (kind IN ('where_to_buy', 'how_to_use', 'ingredients', 'promotions', 'recall', 'general')),
    owner text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE article_version (
    article_id text NOT NULL REFERENCES article (id),
    language text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    version integer NOT NULL CHECK (version > 0),
    title text NOT NULL,
    body text NOT NULL,
    state text NOT NULL CHECK (state IN ('draft', 'reviewed', 'published', 'retired')),
    author text NOT NULL,
    reviewer text,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, language, version)
);
CREATE INDEX article_version_published ON article_version (state) WHERE state = 'published';

CREATE TABLE setting (
    name text PRIMARY KEY,
    value double precision NOT NULL,
    changed_by text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO setting (name, value, changed_by) VALUES
    ('answer_threshold', 0.80, 'migration');

CREATE TABLE answer_log (
    id bigserial PRIMARY KEY,
    asked_at timestamptz NOT NULL DEFAULT now(),
    question text NOT NULL,
    language text NOT NULL,
    article_id text,
    article_language text,
    score double precision NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('answered', 'handed_off', 'resolved', 'reopened')),
    handoff_reason text NOT NULL DEFAULT '',
    channel text NOT NULL DEFAULT 'api'
);

CREATE TABLE code_model (
    version integer PRIMARY KEY,
    trained_at timestamptz NOT NULL DEFAULT now(),
    examples integer NOT NULL,
    top1 double precision NOT NULL,
    top3 double precision NOT NULL,
    promoted boolean NOT NULL,
    training jsonb NOT NULL,  -- the labelled verbatims, so the model can be rebuilt exactly
    model bytea NOT NULL      -- the fitted model, so start-up loads rather than trains
);
