-- The fold lookup of every enqueue (job, state 'queued', params_key) ran inside the single writer and
-- read every queued item of the job: with thousands waiting, each new item cost a scan.
CREATE INDEX queue_item_fold ON queue_item(job_id, state, params_key);
