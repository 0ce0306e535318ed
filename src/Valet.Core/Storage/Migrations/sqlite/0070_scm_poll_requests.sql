-- Jobs waiting for a polling run or being polled: a request for a job already waiting coalesces into
-- its row, one arriving while the job is polled marks the row 'again' (exactly one more run). Rows
-- outlive a restart, so a poll asked for just before it still runs; a claim by an earlier run of the
-- server (its server_node row silent) is taken over.
CREATE TABLE scm_poll_request (
    job_id INTEGER NOT NULL PRIMARY KEY REFERENCES item(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    server_id TEXT NULL,
    requested_at INTEGER NOT NULL
);
