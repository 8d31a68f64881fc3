-- API-2: webhook endpoints, one delivery per (endpoint, event), each attempt logged.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT,
    -- Space-separated event types; empty means every type.
    event_types TEXT NOT NULL,
    -- Sealed `whsec_…`; during a rotation the previous one signs too until `previous_until`.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    disabled_at BIGINT,
    disabled_reason TEXT,
    -- The first failure since the last success: five days of it disables the endpoint.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);
CREATE INDEX webhook_endpoints_enabled ON webhook_endpoints (org_id, disabled_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    -- The exact bytes signed and sent: `{type, timestamp, data}`.
    payload TEXT NOT NULL,
    -- pending, succeeded or failed.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_status_code BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (org_id, endpoint_id, id);
-- One delivery per message and endpoint, however often the fan-out runs.
CREATE UNIQUE INDEX webhook_deliveries_message ON webhook_deliveries (endpoint_id, message_id);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    org_id TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code BIGINT,
    duration_ms BIGINT NOT NULL,
    -- The first 4 KB of the receiver's answer, or why there was none.
    response TEXT,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
