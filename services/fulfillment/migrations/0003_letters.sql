-- Letters: standard letters made of standard paragraphs, per language, as data an admin edits; the
-- consumer's name, language and postal address are kept on the request when it is taken, so the worker
-- composes the letter without asking contacts; one rendered PDF per request.
CREATE TABLE letter_template (
    name text NOT NULL,
    language text NOT NULL,
    subject text NOT NULL,
    greeting text NOT NULL,
    paragraphs text[] NOT NULL,
    closing text NOT NULL,
    PRIMARY KEY (name, language)
);

INSERT INTO letter_template VALUES
    ('apology', 'en', 'Our apologies',
     'Dear {name},',
     ARRAY['Thank you for telling us about your experience with our product. We are sorry it did not meet the standard you expect from us.',
           'Our quality team will look into what you described.'],
     'Yours sincerely, Consumer Care'),
    ('apology', 'fr', 'Toutes nos excuses',
     'Madame, Monsieur {name},',
     ARRAY['Nous vous remercions de nous avoir fait part de votre expérience avec notre produit. Nous sommes désolés qu''il n''ait pas été à la hauteur de vos attentes.',
           'Notre service qualité va examiner ce que vous nous avez décrit.'],
     'Veuillez agréer nos salutations distinguées. Le service consommateurs'),
    ('apology', 'ja', 'お詫び',
     '{name} 様',
     ARRAY['このたびは弊社製品についてご連絡いただき、誠にありがとうございます。ご期待に沿えず、大変申し訳ございません。',
           'お知らせいただいた内容は品質管理部門にて調査いたします。'],
     'お客様相談室');

ALTER TABLE fulfillment
    ADD COLUMN consumer_name text NOT NULL DEFAULT '',
    ADD COLUMN language text NOT NULL DEFAULT 'en',
    ADD COLUMN address jsonb NOT NULL DEFAULT '{}';

CREATE TABLE letter (
    fulfillment_id uuid PRIMARY KEY REFERENCES fulfillment (id),
    template text NOT NULL,
    language text NOT NULL,
    pdf bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
