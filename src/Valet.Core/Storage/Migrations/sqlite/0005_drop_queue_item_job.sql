-- queue_item_fold (job_id, state, params_key) serves every lookup queue_item_job (job_id, state) did;
-- the narrower index only cost a second index update per queued item.
DROP INDEX queue_item_job;
