-- The server processes sharing the store, each with the time of its last heartbeat: one silent for
-- 30 s is dead, and a live one records its builds' end (Execution/ServerHeartbeat.cs).
CREATE TABLE server_node (
    id TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    urls TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- Which server runs a build: its result counts only from that server, and when that server dies
-- another records the build's end. Builds still 'starting' have no process yet: a dead server's go
-- back to the queue.
ALTER TABLE build ADD COLUMN server_id TEXT NULL;
