-- Where each IMAP mailbox was read up to: its UIDVALIDITY and the last UID through the intake, so a
-- restart resumes at the next message; read_at is when it was last read through.
CREATE TABLE imap_mailbox (
    mailbox text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid bigint NOT NULL,
    read_at timestamptz NOT NULL
);
