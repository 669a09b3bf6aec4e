-- The embedding model's vector of each published article version, kept so that a restart reads them
-- instead of encoding every article again (2,000 articles took over a minute to encode).
CREATE TABLE article_vector (
    article_id text NOT NULL,
    language text NOT NULL,
    version integer NOT NULL,
    model text NOT NULL,         -- the embedding model's name: another model's vectors are not comparable
    vector bytea NOT NULL,       -- float32, little-endian
    PRIMARY KEY (article_id, language, version, model),
    FOREIGN KEY (article_id, language, version) REFERENCES article_version (article_id, language, version)
);
