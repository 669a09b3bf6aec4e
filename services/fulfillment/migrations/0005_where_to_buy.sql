-- Where to buy: each postcode's centre, to place a consumer; imported (crs postcodes import) or seeded
-- from data shipped with a package, never fetched at run time. Postcodes are stored normalised
-- (where_to_buy.normalise_postcode).
CREATE TABLE postcode (
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    postcode text NOT NULL,
    latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    PRIMARY KEY (country, postcode)
);
