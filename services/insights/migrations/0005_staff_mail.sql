-- Staff mail: the stakeholders an admin lists (staff, not consumers), the mail insights owes them, and the
-- weeks whose digest has been claimed. Nothing of any consumer is kept here.
CREATE TABLE stakeholder (
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('marketing', 'qa', 'legal')),
    name text NOT NULL,
    added_by text NOT NULL,
    added_at timestamptz NOT NULL,
    PRIMARY KEY (role, email)
);

-- What is owed, written in the transaction that makes it owed (an alert raised, a week's digest claimed, a
-- warning taken off the bus), and sent by the staff mailer through channels' notices afterwards.
CREATE TABLE staff_mail (
    key text PRIMARY KEY,              -- alert:<id>, digest:<week>:<list>, regulatory:<event id>
    kind text NOT NULL CHECK (kind IN ('alert', 'digest', 'regulatory')),
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    next_try_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    sent_at timestamptz,               -- handed to channels (every recipient's notice taken)
    recipients integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX staff_mail_due ON staff_mail (next_try_at) WHERE sent_at IS NULL;

-- One digest per ISO week, however often the schedule fires and across restarts.
CREATE TABLE digest_week (
    week text PRIMARY KEY,             -- YYYY-Www
    claimed_at timestamptz NOT NULL,
    claimed_by text NOT NULL
);
