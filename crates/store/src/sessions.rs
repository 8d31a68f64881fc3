//! Login sessions. Only the SHA-256 of a session token is stored.

use sqlx::any::AnyRow;
use steward_core::ids::{OrgId, SessionId, UserId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::organizations::OrgSummary;
use crate::row::{opt_text, text, time};
use crate::scope::OrgScope;
use crate::users::{self, User};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub token_hash: String,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub idle_expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    /// The idle timeout this session slides by (its organization's setting).
    pub idle_secs: i64,
    /// When the person last proved who they are in this session.
    pub reauth_at: Timestamp,
}

/// A session with its user and organization: what every request needs, in
/// one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
    pub org: OrgSummary,
    /// The organization requires 2FA and this person hasn't enrolled: the
    /// session may only be used to enroll.
    pub must_enroll: bool,
}

fn from_row(r: &AnyRow) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        user_id: UserId::from_trusted(text(r, "user_id")?),
        token_hash: text(r, "token_hash")?,
        csrf_token: text(r, "csrf_token")?,
        ip: opt_text(r, "ip")?,
        user_agent: opt_text(r, "user_agent")?,
        created_at: time(r, "created_at")?,
        last_seen_at: time(r, "last_seen_at")?,
        idle_expires_at: time(r, "idle_expires_at")?,
        absolute_expires_at: time(r, "absolute_expires_at")?,
        idle_secs: crate::row::int(r, "idle_secs")?,
        reauth_at: time(r, "reauth_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &OrgScope, s: &Session) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, org_id, user_id, token_hash, csrf_token, ip, user_agent, created_at, last_seen_at, idle_expires_at, \
         absolute_expires_at, idle_secs, reauth_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(s.id.as_str())
    .bind(org.as_str())
    .bind(s.user_id.as_str())
    .bind(&s.token_hash)
    .bind(&s.csrf_token)
    .bind(&s.ip)
    .bind(&s.user_agent)
    .bind(s.created_at.millis())
    .bind(s.last_seen_at.millis())
    .bind(s.idle_expires_at.millis())
    .bind(s.absolute_expires_at.millis())
    .bind(s.idle_secs)
    .bind(s.reauth_at.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn by_token_hash(c: &mut Conn, token_hash: &str) -> StoreResult<Option<SessionWithUser>> {
    let sql = format!(
        "SELECT s.id, s.org_id, s.user_id, s.token_hash, s.csrf_token, s.ip, s.user_agent, s.created_at, s.last_seen_at, \
                s.idle_expires_at, s.absolute_expires_at, s.idle_secs, s.reauth_at, {}, o.name AS o_name, o.slug AS o_slug, \
                CASE WHEN ss.two_factor = 'required' AND (f.confirmed_at IS NULL) THEN 1 ELSE 0 END AS must_enroll \
         FROM sessions s JOIN users u ON u.id = s.user_id AND u.org_id = s.org_id \
         JOIN organizations o ON o.id = s.org_id \
         LEFT JOIN security_settings ss ON ss.org_id = s.org_id LEFT JOIN totp_factors f ON f.user_id = u.id \
         WHERE s.token_hash = $1",
        users::columns_as("u", "u_")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash).fetch_optional(c).await?;
    row.as_ref()
        .map(|r| {
            let session = from_row(r)?;
            let org = OrgSummary { id: session.org_id.clone(), name: text(r, "o_name")?, slug: text(r, "o_slug")? };
            Ok(SessionWithUser {
                user: users::from_prefixed_row(r, "u_")?,
                org,
                session,
                must_enroll: crate::row::int(r, "must_enroll")? == 1,
            })
        })
        .transpose()
}

/// Slides the idle expiry forward.
pub async fn touch(c: &mut Conn, id: &SessionId, now: Timestamp, idle_expires_at: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1")
        .bind(id.as_str())
        .bind(now.millis())
        .bind(idle_expires_at.millis())
        .execute(c)
        .await?;
    Ok(())
}

/// Removes a session found expired when it was used (bookkeeping, no event).
pub async fn expire(c: &mut Conn, id: &SessionId) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.as_str()).execute(c).await?;
    Ok(())
}

pub async fn delete(c: &mut WriteTx, org: &OrgScope, id: &SessionId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Ends every session of a user; returns how many ended.
pub async fn delete_for_user(c: &mut WriteTx, org: &OrgScope, user: &UserId) -> StoreResult<u64> {
    let res = sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2")
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected())
}

/// Ends every session of a user but one (after a password change).
pub async fn delete_others(c: &mut WriteTx, org: &OrgScope, user: &UserId, keep: &SessionId) -> StoreResult<u64> {
    let res = sqlx::query("DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND id <> $3")
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(keep.as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected())
}

const COLUMNS: &str = "id, org_id, user_id, token_hash, csrf_token, ip, user_agent, created_at, last_seen_at, idle_expires_at, \
    absolute_expires_at, idle_secs, reauth_at";

pub async fn get(c: &mut Conn, org: &OrgScope, id: &SessionId) -> StoreResult<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE org_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// A user's sessions, most recently used first.
pub async fn for_user(c: &mut Conn, org: &OrgScope, user: &UserId) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE org_id = $1 AND user_id = $2 ORDER BY last_seen_at DESC LIMIT 200"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(c)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Marks a fresh proof of identity.
pub async fn reauthenticated(c: &mut WriteTx, org: &OrgScope, id: &SessionId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET reauth_at = $3 WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(now.millis())
        .execute(&mut **c)
        .await?;
    Ok(())
}

/// Whether a sign-in came from a device the person used before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// Their first sign-in ever: nothing to compare with.
    First,
    Known,
    New,
}

/// Records that `user` signed in from the device `device_hash` and says
/// whether it was seen before. Runs in the sign-in's transaction, which holds
/// the organization's write lock, so two sign-ins can't both see it as new.
pub async fn remember_device(
    c: &mut WriteTx,
    org: &OrgScope,
    user: &UserId,
    device_hash: &str,
    now: Timestamp,
) -> StoreResult<Device> {
    let seen: Vec<String> =
        sqlx::query_scalar("SELECT device_hash FROM known_devices WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_all(&mut **c)
            .await?;
    let device = if seen.is_empty() {
        Device::First
    } else if seen.iter().any(|h| h == device_hash) {
        Device::Known
    } else {
        Device::New
    };
    sqlx::query(
        "INSERT INTO known_devices (org_id, user_id, device_hash, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(device_hash)
    .bind(now.millis())
    .execute(&mut **c)
    .await?;
    Ok(device)
}
