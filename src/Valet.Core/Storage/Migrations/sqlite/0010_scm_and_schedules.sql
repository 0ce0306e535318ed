-- What a git build checked out, beside the build row: the revision the poller compares the remote
-- head with, and the commits since the previous build (JSON list) for the API's change sets.
CREATE TABLE build_scm (
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    url TEXT NOT NULL,
    branch TEXT NOT NULL,
    revision TEXT NOT NULL,
    previous_revision TEXT NULL,
    change_set TEXT NOT NULL,
    PRIMARY KEY (job_id, number)
);

-- A schedule's minute is claimed by inserting its row: the one insert that succeeds fires it, so a
-- restart (or another server on a shared database) never fires the same minute twice.
CREATE TABLE schedule_tick (
    job_id INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
    trigger_kind TEXT NOT NULL,
    minute INTEGER NOT NULL,
    PRIMARY KEY (job_id, trigger_kind, minute)
);
