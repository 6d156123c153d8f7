-- A cancelled contact change keeps its row until it expires, so that its send count and
-- last send time keep limiting new codes (cancel and start again must not reset them).
ALTER TABLE contact_changes ADD COLUMN cancelled_at timestamptz;
