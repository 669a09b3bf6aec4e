-- One row per consumer with a ledger: the balance is maintained in the same transaction as each entry,
-- so reading it is one primary-key lookup, and the credit terms live beside it.
CREATE TABLE account (
    consumer_id uuid PRIMARY KEY,
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor bigint NOT NULL DEFAULT 0,
    credit_limit_minor bigint NOT NULL DEFAULT 0 CHECK (credit_limit_minor >= 0),
    payment_terms text NOT NULL DEFAULT '',
    net_days integer NOT NULL DEFAULT 0 CHECK (net_days >= 0),
    credit_status text NOT NULL DEFAULT 'none' CHECK (credit_status IN ('good_standing', 'on_hold', 'none')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ledger_entry (
    id uuid PRIMARY KEY,
    consumer_id uuid NOT NULL REFERENCES account (consumer_id),
    kind text NOT NULL CHECK (kind IN ('invoice', 'payment', 'credit', 'refund')),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency char(3) NOT NULL,
    reference text NOT NULL DEFAULT '',
    posted_at timestamptz NOT NULL DEFAULT now(),
    -- NULL for entries loaded in bulk; every entry posted through the API carries one.
    idempotency_key text UNIQUE
);

CREATE INDEX ledger_entry_by_consumer ON ledger_entry (consumer_id, posted_at DESC, id DESC);
