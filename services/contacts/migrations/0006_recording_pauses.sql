-- PCI pauses of a call's recording. Each recording_paused / recording_resumed event telephony published is
-- one row, keyed by the event's id so a redelivered event adds nothing; the timeline of every case the call
-- belongs to shows them, whenever the call was linked (docs/casework.md, "Recording pauses").
CREATE TABLE call_recording_pause (
    event_id text PRIMARY KEY,
    call_id text NOT NULL,
    paused boolean NOT NULL,
    actor text NOT NULL,
    actor_role text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    offset_seconds double precision NOT NULL DEFAULT 0
);
CREATE INDEX call_recording_pause_call_idx ON call_recording_pause (call_id, occurred_at);

-- The recording's metadata, from call_ended: its silent spans (start and end in seconds, who, when).
ALTER TABLE contact ADD COLUMN recording_paused jsonb NOT NULL DEFAULT '[]';
