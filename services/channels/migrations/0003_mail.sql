-- Where each IMAP mailbox was read up to: its UIDVALIDITY and the last UID through the intake, so a
-- restart resumes at the next message; read_at is when it was last read through.
CREATE TABLE imap_mailbox (
    mailbox text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid bigint NOT NULL,
    read_at timestamptz NOT NULL
);

-- Reply templates an admin keeps, one text per name and language; the agent's reply form offers those in
-- the consumer's language. The demo starts with three, in English, French and Spanish.
CREATE TABLE reply_template (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    language text NOT NULL CHECK (language ~ '^[a-z]{2,3}$'),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, language)
);
INSERT INTO reply_template (name, language, body, updated_by) VALUES
    ('Ask for the lot code', 'en', E'Thank you for writing to us, and we are sorry about this.\n\nCould you send us the lot code and best-before date printed on the pack? They help us trace what happened.', 'setup'),
    ('Ask for the lot code', 'fr', E'Merci de nous avoir écrit, et nous en sommes désolés.\n\nPourriez-vous nous envoyer le numéro de lot et la date de durabilité imprimés sur l''emballage ? Ils nous aident à retrouver ce qui s''est passé.', 'setup'),
    ('Ask for the lot code', 'es', E'Gracias por escribirnos; lamentamos lo ocurrido.\n\n¿Podría enviarnos el número de lote y la fecha de consumo preferente impresos en el envase? Nos ayudan a rastrear lo sucedido.', 'setup'),
    ('Where to buy', 'en', E'Thank you for your question.\n\nYou can find our products in most large supermarkets; our website lists the shops near you.', 'setup'),
    ('Where to buy', 'fr', E'Merci de votre question.\n\nNos produits sont vendus dans la plupart des grandes surfaces ; notre site indique les magasins près de chez vous.', 'setup');
