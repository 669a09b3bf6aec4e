-- Each carrier's tracking page, as a template with {tracking_number} in it: shipment events carry the link
-- made from it, so the consumer's shipping notices point at their parcel. Data an operator edits; a
-- carrier without a row gets events without a link.
CREATE TABLE carrier (
    name text PRIMARY KEY,
    tracking_url text NOT NULL CHECK (position('{tracking_number}' IN tracking_url) > 0)
);
-- The demo carrier's page (a reserved .example name: the demo parcels exist nowhere else).
INSERT INTO carrier (name, tracking_url) VALUES ('demo', 'https://track.demo-carrier.example/parcel/{tracking_number}');
