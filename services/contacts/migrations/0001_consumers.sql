-- Consumers and how to reach them. Phone numbers keep their history: a number a consumer gave up still
-- finds the calls it made, but it ranks below the numbers in use.
CREATE TABLE consumer (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    language text NOT NULL DEFAULT 'en',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_contact_at timestamptz
);
CREATE INDEX consumer_name_idx ON consumer (lower(name) text_pattern_ops);
CREATE INDEX consumer_created_idx ON consumer (created_at, id);

CREATE TABLE phone_number (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consumer_id uuid NOT NULL REFERENCES consumer (id) ON DELETE CASCADE,
    position smallint NOT NULL DEFAULT 0,
    e164 text NOT NULL,
    country_code smallint NOT NULL,
    national_number text NOT NULL,
    suffix text NOT NULL,
    type text NOT NULL DEFAULT 'mobile',
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to timestamptz
);
-- One index per kind of match; each carries what ranking needs, so matching never visits the heap twice.
CREATE INDEX phone_number_e164_idx ON phone_number (e164) INCLUDE (consumer_id, valid_to);
CREATE INDEX phone_number_national_idx ON phone_number (national_number) INCLUDE (consumer_id, valid_to, e164);
CREATE INDEX phone_number_suffix_idx ON phone_number (suffix) INCLUDE (consumer_id, valid_to, e164, national_number);
CREATE INDEX phone_number_consumer_idx ON phone_number (consumer_id);

CREATE TABLE email (
    consumer_id uuid NOT NULL REFERENCES consumer (id) ON DELETE CASCADE,
    position smallint NOT NULL DEFAULT 0,
    address text NOT NULL,
    type text NOT NULL DEFAULT 'personal',
    PRIMARY KEY (consumer_id, position)
);
CREATE INDEX email_address_idx ON email (lower(address));

CREATE TABLE postal_address (
    consumer_id uuid NOT NULL REFERENCES consumer (id) ON DELETE CASCADE,
    position smallint NOT NULL DEFAULT 0,
    region_code text NOT NULL,
    address_lines text[] NOT NULL DEFAULT '{}',
    locality text NOT NULL DEFAULT '',
    administrative_area text NOT NULL DEFAULT '',
    postal_code text NOT NULL DEFAULT '',
    sorting_code text NOT NULL DEFAULT '',
    type text NOT NULL DEFAULT 'home',
    PRIMARY KEY (consumer_id, position)
);

-- A caller no consumer matched: their calls are filed here, keyed by the number, until someone links them.
CREATE TABLE unidentified_caller (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number_key text NOT NULL UNIQUE,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- A contact: one interaction with a consumer, on any channel.
CREATE TABLE contact (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consumer_id uuid REFERENCES consumer (id) ON DELETE CASCADE,
    unidentified_caller_id uuid REFERENCES unidentified_caller (id) ON DELETE CASCADE,
    channel text NOT NULL,
    direction text NOT NULL DEFAULT 'inbound',
    summary text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'new',
    occurred_at timestamptz NOT NULL DEFAULT now(),
    call_id text UNIQUE,
    duration_seconds double precision,
    recording_key text
);
CREATE INDEX contact_consumer_idx ON contact (consumer_id, occurred_at DESC);
CREATE INDEX contact_unidentified_idx ON contact (unidentified_caller_id, occurred_at DESC);
