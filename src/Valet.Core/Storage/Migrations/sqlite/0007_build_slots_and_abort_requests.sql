-- "This job is already building" as a row: the running build of a job that does not build
-- concurrently holds the job's slot, taken in the claim's transaction and released with the build's
-- result, so two claims never start the job twice, whichever processes make them.
CREATE TABLE job_build_slot (
    job_id INTEGER NOT NULL PRIMARY KEY,
    number INTEGER NOT NULL,
    FOREIGN KEY (job_id, number) REFERENCES build(job_id, number) ON DELETE CASCADE
);

-- Who asked a running build to stop: the process running the build stops it when it sees this.
ALTER TABLE build ADD COLUMN abort_requested_by TEXT NULL;
