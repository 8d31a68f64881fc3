//! Security settings per organization, and login attempts per email.

use sqlx::Row;
use steward_core::security::{Complexity, Settings, TwoFactorMode};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{int, parsed};
use crate::scope::OrgScope;

/// The organization's settings, or the defaults when it never changed them.
pub async fn get(c: &mut Conn, org: &OrgScope) -> StoreResult<Settings> {
    let row = sqlx::query(
        "SELECT password_min_length, password_complexity, session_idle_timeout_minutes, session_absolute_timeout_hours, two_factor \
         FROM security_settings WHERE org_id = $1",
    )
    .bind(org.as_str())
    .fetch_optional(c)
    .await?;
    let Some(r) = row else { return Ok(Settings::default()) };
    Ok(Settings {
        password_min_length: int(&r, "password_min_length")?,
        password_complexity: parsed(&r, "password_complexity", Complexity::parse)?,
        session_idle_timeout_minutes: int(&r, "session_idle_timeout_minutes")?,
        session_absolute_timeout_hours: int(&r, "session_absolute_timeout_hours")?,
        two_factor: parsed(&r, "two_factor", TwoFactorMode::parse)?,
    })
}

pub async fn put(c: &mut WriteTx, org: &OrgScope, s: &Settings, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO security_settings (org_id, password_min_length, password_complexity, session_idle_timeout_minutes, \
         session_absolute_timeout_hours, two_factor, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (org_id) DO UPDATE SET password_min_length = excluded.password_min_length, \
         password_complexity = excluded.password_complexity, session_idle_timeout_minutes = excluded.session_idle_timeout_minutes, \
         session_absolute_timeout_hours = excluded.session_absolute_timeout_hours, two_factor = excluded.two_factor, \
         updated_at = excluded.updated_at",
    )
    .bind(org.as_str())
    .bind(s.password_min_length)
    .bind(s.password_complexity.as_str())
    .bind(s.session_idle_timeout_minutes)
    .bind(s.session_absolute_timeout_hours)
    .bind(s.two_factor.as_str())
    .bind(now.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// Applies new timeouts to the organization's open sessions: a shorter
/// lifetime shortens them now; the idle timeout applies from the next request.
pub async fn apply_to_sessions(c: &mut WriteTx, org: &OrgScope, s: &Settings) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sessions SET idle_secs = $2, absolute_expires_at = CASE WHEN created_at + $3 < absolute_expires_at \
         THEN created_at + $3 ELSE absolute_expires_at END, idle_expires_at = CASE WHEN last_seen_at + $4 < idle_expires_at \
         THEN last_seen_at + $4 ELSE idle_expires_at END WHERE org_id = $1",
    )
    .bind(org.as_str())
    .bind(s.idle_secs())
    .bind(s.absolute_secs() * 1000)
    .bind(s.idle_secs() * 1000)
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// Recent failed sign-ins for an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempts {
    pub failures: i64,
    pub first_failed_at: Timestamp,
    pub last_failed_at: Timestamp,
    pub locked_until: Option<Timestamp>,
}

pub async fn attempts(c: &mut Conn, email: &str) -> StoreResult<Option<Attempts>> {
    let row = sqlx::query(
        "SELECT failures, first_failed_at, last_failed_at, locked_until FROM login_attempts WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(Attempts {
            failures: int(&r, "failures")?,
            first_failed_at: Timestamp::from_millis(int(&r, "first_failed_at")?),
            last_failed_at: Timestamp::from_millis(int(&r, "last_failed_at")?),
            locked_until: r.try_get::<Option<i64>, _>("locked_until")?.map(Timestamp::from_millis),
        })
    })
    .transpose()
}

pub async fn save_attempts(c: &mut WriteTx, email: &str, a: &Attempts) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO login_attempts (email, failures, first_failed_at, last_failed_at, locked_until) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (email) DO UPDATE SET failures = excluded.failures, first_failed_at = excluded.first_failed_at, \
         last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until",
    )
    .bind(email)
    .bind(a.failures)
    .bind(a.first_failed_at.millis())
    .bind(a.last_failed_at.millis())
    .bind(a.locked_until.map(Timestamp::millis))
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn clear_attempts(c: &mut WriteTx, email: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_attempts WHERE email = $1").bind(email).execute(&mut **c).await?;
    Ok(())
}
