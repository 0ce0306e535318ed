-- Every /buildByToken request, accepted or not; never a token value.
CREATE TABLE trigger_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    job TEXT NULL,
    full_name TEXT NULL,
    address TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NULL,
    queue_id INTEGER NULL,
    idempotency_key TEXT NULL,
    token_name TEXT NULL,
    count INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX trigger_audit_time ON trigger_audit(time);

-- First answers to an Idempotency-Key, replayed for 24 hours.
CREATE TABLE idempotency_key (
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    key TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, endpoint, key)
);
CREATE INDEX idempotency_key_created ON idempotency_key(created_at);
