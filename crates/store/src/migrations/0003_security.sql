-- Security settings per organization (absent row = the safe defaults), login
-- throttling per email (known or not, so both answer alike), and each
-- session's idle timeout as its organization set it.

CREATE TABLE security_settings (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    password_min_length BIGINT NOT NULL,
    password_complexity TEXT NOT NULL CHECK (password_complexity IN ('off', 'strength', 'classes')),
    session_idle_timeout_minutes BIGINT NOT NULL,
    session_absolute_timeout_hours BIGINT NOT NULL,
    two_factor TEXT NOT NULL CHECK (two_factor IN ('required', 'optional', 'disabled')),
    updated_at BIGINT NOT NULL
);

CREATE TABLE login_attempts (
    email TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT
);

ALTER TABLE sessions ADD COLUMN idle_secs BIGINT NOT NULL DEFAULT 1800
;

-- When the person last proved who they are (sign-in or re-entering the
-- password); sensitive actions need this within the last 10 minutes.
ALTER TABLE sessions ADD COLUMN reauth_at BIGINT NOT NULL DEFAULT 0
