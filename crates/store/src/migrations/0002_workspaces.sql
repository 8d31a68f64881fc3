-- Workspaces, their members, and the platform objects they hold (campaigns,
-- content, platform connections, media). Counters on workspaces (members,
-- campaigns, storage) are kept in the same transaction as the rows they count,
-- so lists sort by them without scanning.

ALTER TABLE organizations ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE organizations ADD COLUMN workspace_limit BIGINT;

CREATE INDEX users_org_status ON users (org_id, status);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- lower-cased name, compared byte-wise on both engines for a stable sort
    sort_name TEXT NOT NULL,
    slug TEXT NOT NULL,
    description TEXT,
    timezone TEXT NOT NULL,
    default_language TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    status_reason TEXT,
    status_changed_at BIGINT,
    restore_status TEXT CHECK (restore_status IN ('active', 'suspended')),
    member_count BIGINT NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    campaign_count BIGINT NOT NULL DEFAULT 0 CHECK (campaign_count >= 0),
    storage_bytes BIGINT NOT NULL DEFAULT 0 CHECK (storage_bytes >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, slug)
);
CREATE INDEX workspaces_org_status ON workspaces (org_id, status);
CREATE INDEX workspaces_org_name ON workspaces (org_id, sort_name, id);
CREATE INDEX workspaces_org_created ON workspaces (org_id, created_at, id);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user ON workspace_members (user_id);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed')),
    paused_by TEXT CHECK (paused_by IN ('suspension', 'archive')),
    cost_credits BIGINT NOT NULL DEFAULT 0 CHECK (cost_credits >= 0),
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX campaigns_workspace ON campaigns (workspace_id, id);
CREATE INDEX campaigns_org_status ON campaigns (org_id, status);
CREATE INDEX campaigns_org_created ON campaigns (org_id, created_at);

CREATE TABLE content_items (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    body TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    scheduled_at BIGINT,
    published_at BIGINT,
    deleted_at BIGINT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX content_workspace ON content_items (workspace_id, id);
CREATE INDEX content_org_published ON content_items (org_id, published_at) WHERE deleted_at IS NULL;
CREATE INDEX content_campaign ON content_items (campaign_id);

CREATE TABLE platform_connections (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    account_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX connections_workspace ON platform_connections (workspace_id, id);
CREATE INDEX connections_org_status ON platform_connections (org_id, status);

CREATE TABLE media (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL CHECK (bytes >= 0),
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_workspace ON media (workspace_id, id)
;

-- Dashboard rollups, kept in the same transaction as the rows they count, so
-- the dashboard reads a few hundred small rows instead of counting millions.
ALTER TABLE workspaces ADD COLUMN active_campaign_count BIGINT NOT NULL DEFAULT 0;

-- Per organization and 15-minute slot (every time zone's midnight falls on a
-- slot boundary): campaigns created and content published in that slot.
CREATE TABLE activity_buckets (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bucket BIGINT NOT NULL,
    campaigns_created BIGINT NOT NULL DEFAULT 0,
    content_published BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, bucket)
)
