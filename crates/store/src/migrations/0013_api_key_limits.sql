-- API-1: each key's own limit, in requests a minute; keys made before it get the default.
ALTER TABLE api_keys ADD COLUMN rate_limit_per_minute BIGINT NOT NULL DEFAULT 600;
