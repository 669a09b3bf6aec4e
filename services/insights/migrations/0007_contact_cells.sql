-- Contacts counted per cell (domain/aggregates.py): product, lot, region, issue code, channel and received
-- day, with their weight together (facts.py's weight, summed). Moved in the same transaction that records
-- a contact (a later version takes its count from its old cell to its new one), emptied and built again
-- with `contact` on a rebuild. The early warning reads these, a week per row, not the contacts.
CREATE TABLE contact_cell (
    sku text NOT NULL,
    lot_code text NOT NULL,
    region text NOT NULL,
    issue_code text NOT NULL,
    channel text NOT NULL,
    received_on date NOT NULL,
    week date NOT NULL,  -- the Monday of received_on
    contacts integer NOT NULL CHECK (contacts >= 0),
    weight double precision NOT NULL,
    PRIMARY KEY (sku, lot_code, region, issue_code, channel, received_on)
);
CREATE INDEX contact_cell_week ON contact_cell (week, sku);

-- The contacts behind an alert are found by their cell.
CREATE INDEX contact_cell_members ON contact (sku, issue_code, received_on);

-- The contacts already held. The weight is facts.py's: a web-form contact with no consumer on file
-- counts 0.25 (UNVERIFIED_WEB_WEIGHT), every other 1.
INSERT INTO contact_cell (sku, lot_code, region, issue_code, channel, received_on, week, contacts, weight)
SELECT sku, lot_code, region, issue_code, channel, received_on,
       date_trunc('week', received_on)::date, count(*),
       sum(CASE WHEN consumer_on_file OR channel <> 'web' THEN 1.0 ELSE 0.25 END)
FROM contact
GROUP BY sku, lot_code, region, issue_code, channel, received_on;
