-- Several servers share this store, so consoles and polling logs live here, not in one server's home:
-- any server serves any console, live, wherever its build runs (Execution/ConsoleChunks.cs).
-- A chunk's byte_offset is where its first byte sits in the console; chunks follow each other without gaps.
CREATE TABLE console_chunk (
    job_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    byte_offset BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, number, byte_offset),
    FOREIGN KEY (job_id, number) REFERENCES build(job_id, number) ON DELETE CASCADE
);

-- A job's polling log: about its last polling runs, as the file in the home holds them on SQLite.
CREATE TABLE scm_poll_log (
    job_id BIGINT PRIMARY KEY REFERENCES item(id) ON DELETE CASCADE,
    text TEXT NOT NULL
);
