-- Product search matches a SKU or a UPC. With an index on each, PostgreSQL combines the two (a BitmapOr)
-- instead of filtering every case the text search found.
CREATE INDEX contact_product_upc_idx ON contact (product_upc, lot_code, occurred_at DESC) WHERE product_upc <> '';
