-- The server processes writing the store, each with the time of its last heartbeat. SQLite has one
-- server, so its row only matters there as the record of which incarnation ran a build.
CREATE TABLE server_node (
    id TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    urls TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- Which server runs a build: its result counts only from that server, and when that server dies
-- another records the build's end. Builds still 'starting' have no process yet: a dead server's go
-- back to the queue.
ALTER TABLE build ADD COLUMN server_id TEXT NULL;
