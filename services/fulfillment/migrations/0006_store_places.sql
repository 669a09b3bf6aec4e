-- Where to buy looks for stores inside a box around the consumer's postcode first: stores by latitude,
-- then longitude, so a box is a range scan rather than a distance computed for every store.
CREATE INDEX location_store_place ON location (latitude, longitude) WHERE kind = 'store';
