-- Items: folders and jobs. full_key is the upper-case invariant full name, so lookups ignore case.
CREATE TABLE item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id INTEGER NULL REFERENCES item(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL,
    full_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    managed_by TEXT NULL,
    next_build_number INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX item_parent ON item(parent_id);

-- Ids never reused, also across restarts: AUTOINCREMENT, not a rowid.
CREATE TABLE queue_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    in_queue_since INTEGER NOT NULL,
    params TEXT NULL,
    params_key TEXT NULL,
    causes TEXT NOT NULL,
    build_number INTEGER NULL,
    claimed_by TEXT NULL,
    left_at INTEGER NULL
);
CREATE INDEX queue_item_live ON queue_item(state, due_at);
CREATE INDEX queue_item_job ON queue_item(job_id, state);

CREATE TABLE build (
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    queue_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    result TEXT NULL,
    started_at INTEGER NOT NULL,
    duration INTEGER NOT NULL DEFAULT 0,
    causes TEXT NOT NULL,
    params TEXT NULL,
    executor INTEGER NOT NULL,
    workspace TEXT NOT NULL,
    node TEXT NOT NULL,
    PRIMARY KEY (job_id, number)
);
CREATE INDEX build_state ON build(state);
CREATE INDEX build_queue ON build(queue_id);

-- Job tokens: only the keyed hash of a value is kept.
CREATE TABLE job_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER NULL,
    last_used_address TEXT NULL,
    UNIQUE (job_id, name)
);

CREATE TABLE user_account (
    id TEXT NOT NULL PRIMARY KEY,
    id_key TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    managed_by TEXT NULL,
    created_at INTEGER NOT NULL
);
