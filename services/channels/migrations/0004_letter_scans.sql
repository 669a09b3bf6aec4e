-- Scanned letters: the original file stays on the case. A scan is uploaded and drafted (OCR) first; it
-- names its case once the agent confirms the corrected verbatim and the case is opened.
CREATE TABLE letter_scan (
    id uuid PRIMARY KEY,
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/tiff')),
    filename text NOT NULL DEFAULT '',
    data bytea NOT NULL,
    size bigint NOT NULL,
    draft text NOT NULL DEFAULT '',
    ocr_language text NOT NULL DEFAULT 'auto',
    uploaded_by text NOT NULL,
    case_id uuid,
    case_reference bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz
);
CREATE INDEX letter_scan_case ON letter_scan (case_id) WHERE case_id IS NOT NULL;
