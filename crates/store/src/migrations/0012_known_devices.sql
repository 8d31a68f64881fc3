-- The browsers (devices) each person has signed in from, so a sign-in from a
-- new one can be mailed to them. Only a hash of the user agent is kept.
CREATE TABLE known_devices (
    org_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_hash TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_hash)
);
CREATE INDEX known_devices_org ON known_devices (org_id)
