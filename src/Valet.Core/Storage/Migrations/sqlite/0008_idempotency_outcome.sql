-- An idempotency record keeps what the first request got as a domain outcome (queued, folded,
-- scheduled) and its queue item, not an HTTP answer: each channel renders it as it answers.
-- 'pending' marks a key claimed by a transaction still running.
ALTER TABLE idempotency_key ADD COLUMN outcome TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE idempotency_key ADD COLUMN queue_id INTEGER NULL;
UPDATE idempotency_key SET
    outcome = CASE status WHEN 201 THEN 'queued' WHEN 303 THEN 'folded' ELSE 'scheduled' END,
    queue_id = CASE WHEN location IS NULL THEN NULL
        ELSE CAST(substr(rtrim(location, '/'), length(rtrim(rtrim(location, '/'), '0123456789')) + 1) AS INTEGER) END;
ALTER TABLE idempotency_key DROP COLUMN status;
ALTER TABLE idempotency_key DROP COLUMN location;
