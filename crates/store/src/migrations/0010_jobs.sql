-- Background jobs in our own table, so a use case enqueues inside its write
-- transaction (a rolled-back change enqueues nothing). `failed` is an attempt
-- that failed and waits for its retry at `run_at`; `dead` ran out of attempts
-- (or can never run: unknown kind, payload that no longer parses) and keeps
-- its last error. A running job belongs to `locked_by` until `locked_until`;
-- after that any worker may take it again (at least once).
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    org_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'dead', 'cancelled')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    dedupe_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- Claiming reads the due jobs in run_at order, and the running ones whose lease ran out.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('pending', 'failed');
CREATE INDEX jobs_leases ON jobs (locked_until) WHERE state = 'running';
-- `steward jobs list --state … --kind …`, newest first.
CREATE INDEX jobs_by_state ON jobs (state, kind, created_at);
-- One job per dedupe key while it is still to run.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('pending', 'running', 'failed');

-- Recurring schedules: one row per schedule and period. The instance whose
-- insert succeeds enqueues that period's pass; every other instance's insert
-- does nothing, so a pass runs once per period however many workers run.
CREATE TABLE job_schedule_runs (
    schedule TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    fired_at BIGINT NOT NULL,
    PRIMARY KEY (schedule, period_start)
)
