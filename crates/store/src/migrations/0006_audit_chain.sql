-- Tamper evidence: each event carries the hash of the one before it and its
-- own, so a row edited or removed outside the retention policy breaks the
-- chain. When old events are purged, the last purged hash is kept as the
-- anchor the remaining chain starts from.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_anchors (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    purged_at BIGINT NOT NULL
)
