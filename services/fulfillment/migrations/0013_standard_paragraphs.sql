-- The library of standard paragraphs letter templates name ({{paragraph:NAME}} among their paragraphs):
-- one text per name and language, edited by an admin. A retired one keeps its text for the letters of
-- retired templates still printing, and may be named by no template saved afterwards.
CREATE TABLE standard_paragraph (
    name text NOT NULL,
    language text NOT NULL,
    text text NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz,
    PRIMARY KEY (name, language)
);
