-- When the current (or last) attempt of a job started, set by the claim: with
-- created_at (written in the enqueueing transaction, so about its commit) it
-- gives how long a job waited for a worker.
ALTER TABLE jobs ADD COLUMN started_at BIGINT
