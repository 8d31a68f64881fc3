-- Indexes for the audit log's filters: each is keyed by organization and walks
-- newest first by sequence number.
CREATE INDEX audit_events_org_action ON audit_events (org_id, action, seq);
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor_id, seq);
CREATE INDEX audit_events_org_workspace ON audit_events (org_id, workspace_id, seq);
CREATE INDEX audit_events_org_target ON audit_events (org_id, target_id, seq);
CREATE INDEX audit_events_org_time ON audit_events (org_id, occurred_at)
