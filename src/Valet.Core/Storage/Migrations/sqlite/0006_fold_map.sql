-- The fold look-up of every enqueue goes through a map the writer keeps (Queue/FoldMap.cs): the
-- index on the fold key, an HMAC, cost every new item a write to a random index page (a 4 KiB log
-- frame, later copied back by a checkpoint). Look-ups by job get their (job_id, state) index back.
DROP INDEX queue_item_fold;
CREATE INDEX queue_item_job ON queue_item(job_id, state);
