-- Jobs waiting for a polling run or being polled, shared by every server on this store: a request for
-- a job already waiting coalesces into its row wherever it arrives, one arriving while the job is polled
-- marks the row 'again' (exactly one more run), and a worker claims a waiting row with SKIP LOCKED, so
-- a job is polled by one server at a time. A claim by a server whose heartbeat stopped is taken over.
CREATE TABLE scm_poll_request (
    job_id BIGINT NOT NULL PRIMARY KEY REFERENCES item(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    server_id TEXT NULL,
    requested_at BIGINT NOT NULL
);
CREATE INDEX scm_poll_request_waiting ON scm_poll_request(requested_at) WHERE state = 'waiting';
