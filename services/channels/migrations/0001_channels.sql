-- Every message received, kept raw before anything reads it, so that no mail is lost to a parser.
CREATE TABLE raw_message (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    envelope_from text NOT NULL DEFAULT '',
    envelope_to text NOT NULL DEFAULT '',
    raw bytea NOT NULL,
    -- received (not yet read), threaded (a case message), rejected (see reason)
    state text NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'threaded', 'rejected')),
    reason text NOT NULL DEFAULT '',
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX raw_message_rejected_idx ON raw_message (received_at DESC) WHERE state = 'rejected';
CREATE INDEX raw_message_pending_idx ON raw_message (id) WHERE state = 'received';

-- Messages on cases, both ways. An outbound one waits in the outbox (delivery = 'queued') until the relay
-- accepts it; a relay that is down only delays it.
CREATE TABLE message (
    id bigserial PRIMARY KEY,
    case_id uuid NOT NULL,
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    message_id text NOT NULL,
    in_reply_to text NOT NULL DEFAULT '',
    refs text[] NOT NULL DEFAULT '{}',
    from_address text NOT NULL,
    to_address text NOT NULL,
    subject text NOT NULL DEFAULT '',
    thread_subject text NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '',
    language text NOT NULL DEFAULT '',
    author text NOT NULL DEFAULT '',
    case_reference bigint NOT NULL DEFAULT 0,
    raw_id bigint REFERENCES raw_message (id),
    mime bytea,
    attachments jsonb NOT NULL DEFAULT '[]',
    delivery text NOT NULL CHECK (delivery IN ('received', 'queued', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
-- The same Message-ID twice is one message: a duplicate never makes a second case.
CREATE UNIQUE INDEX message_message_id_idx ON message (message_id);
CREATE INDEX message_case_idx ON message (case_id, id);
CREATE INDEX message_outbox_idx ON message (next_attempt_at) WHERE delivery = 'queued';
CREATE INDEX message_sender_idx ON message (from_address, thread_subject, created_at DESC) WHERE direction = 'inbound';

CREATE TABLE attachment (
    id bigserial PRIMARY KEY,
    message_id bigint NOT NULL REFERENCES message (id),
    filename text NOT NULL,
    content_type text NOT NULL,
    content bytea NOT NULL
);
CREATE INDEX message_reference_idx ON message (case_reference) WHERE case_reference > 0;
