-- How a letter goes to the consumer: by post (the default, and every request before this), or by email to
-- the address contacts had for them when it was requested. An emailed letter, once printed, waits for the
-- API process's mailer, which hands it to channels (SendLetter) and retries from next_send_at.
ALTER TABLE fulfillment
    ADD COLUMN delivery text NOT NULL DEFAULT 'post' CHECK (delivery IN ('post', 'email')),
    ADD COLUMN email_address text NOT NULL DEFAULT '',
    ADD COLUMN next_send_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX fulfillment_letters_to_email ON fulfillment (next_send_at)
    WHERE delivery = 'email' AND state = 'in_progress' AND stage = 'printed';
