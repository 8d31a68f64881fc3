-- BILL-4: usage reports, written by a background job. The row says where
-- the report is (queued, running with its progress, ready, failed, expired);
-- the file is kept in the file storage under `file_key` until `expires_at`.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- usage_by_workspace, usage_by_user or campaign_costs.
    report_type TEXT NOT NULL,
    -- csv or pdf.
    format TEXT NOT NULL,
    range_from BIGINT NOT NULL,
    range_to BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- 0 to 100 while running.
    progress BIGINT NOT NULL DEFAULT 0,
    line_count BIGINT,
    total_used BIGINT,
    bytes BIGINT,
    file_key TEXT,
    error TEXT,
    -- Who asked: a user or an API key id.
    requested_by TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    expires_at BIGINT
);
CREATE INDEX reports_org ON reports (org_id, id);
CREATE INDEX reports_expiring ON reports (expires_at) WHERE status = 'ready';
