//! TOTP factors and recovery codes.

use sqlx::Row;
use steward_core::ids::{OrgId, UserId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{int, text};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    pub secret: String,
    pub confirmed: bool,
    pub last_used_step: i64,
}

pub async fn get(c: &mut Conn, org: &OrgScope, user: &UserId) -> StoreResult<Option<Factor>> {
    let row =
        sqlx::query("SELECT secret, confirmed_at, last_used_step FROM totp_factors WHERE user_id = $1 AND org_id = $2")
            .bind(user.as_str())
            .bind(org.as_str())
            .fetch_optional(c)
            .await?;
    row.map(|r| {
        Ok(Factor {
            secret: text(&r, "secret")?,
            confirmed: r.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
            last_used_step: int(&r, "last_used_step")?,
        })
    })
    .transpose()
}

/// The value sealed under the database's key when it was first used, if any.
pub async fn key_check(c: &mut Conn) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT sealed FROM sealing_key_check WHERE id = 1").fetch_optional(c).await?)
}

/// Records the key check unless another instance already did (then theirs stays).
pub async fn set_key_check(c: &mut Conn, sealed: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sealing_key_check (id, sealed, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(sealed)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok(())
}

/// (user, secret) of every factor whose secret is stored as plaintext (set up
/// before secrets were sealed).
pub async fn plaintext_secrets(c: &mut Conn) -> StoreResult<Vec<(UserId, String)>> {
    let rows =
        sqlx::query("SELECT user_id, secret FROM totp_factors WHERE secret NOT LIKE 'v1.%'").fetch_all(c).await?;
    rows.iter().map(|r| Ok((UserId::from_trusted(text(r, "user_id")?), text(r, "secret")?))).collect()
}

/// Replaces a plaintext secret with its sealed form (only if still plaintext).
pub async fn seal_secret(c: &mut Conn, user: &UserId, plaintext: &str, sealed: &str) -> StoreResult<()> {
    sqlx::query("UPDATE totp_factors SET secret = $3 WHERE user_id = $1 AND secret = $2")
        .bind(user.as_str())
        .bind(plaintext)
        .bind(sealed)
        .execute(c)
        .await?;
    Ok(())
}

/// Starts (or restarts) enrollment with a new, unconfirmed secret.
pub async fn start(c: &mut WriteTx, org: &OrgScope, user: &UserId, secret: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND org_id = $2")
        .bind(user.as_str())
        .bind(org.as_str())
        .execute(&mut **c)
        .await?;
    sqlx::query("INSERT INTO totp_factors (user_id, org_id, secret, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user.as_str())
        .bind(org.as_str())
        .bind(secret)
        .bind(now.millis())
        .execute(&mut **c)
        .await?;
    Ok(())
}

pub async fn confirm(c: &mut WriteTx, org: &OrgScope, user: &UserId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE totp_factors SET confirmed_at = $2 WHERE user_id = $1 AND org_id = $3")
        .bind(user.as_str())
        .bind(now.millis())
        .bind(org.as_str())
        .execute(&mut **c)
        .await?;
    Ok(())
}

/// Records `step` as used; false when it (or a later one) already was: a replay.
pub async fn use_step(c: &mut WriteTx, org: &OrgScope, user: &UserId, step: i64) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE totp_factors SET last_used_step = $2 WHERE user_id = $1 AND org_id = $3 AND last_used_step < $2",
    )
    .bind(user.as_str())
    .bind(step)
    .bind(org.as_str())
    .execute(&mut **c)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Removes the factor and the recovery codes.
pub async fn remove(c: &mut WriteTx, org: &OrgScope, user: &UserId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1 AND org_id = $2")
        .bind(user.as_str())
        .bind(org.as_str())
        .execute(&mut **c)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user.as_str()).execute(&mut **c).await?;
    Ok(res.rows_affected() == 1)
}

/// Replaces the recovery codes with these hashes.
pub async fn set_recovery_codes(c: &mut WriteTx, org: &OrgScope, user: &UserId, hashes: &[String]) -> StoreResult<()> {
    let in_org = "user_id IN (SELECT id FROM users WHERE org_id = $2)";
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM recovery_codes WHERE user_id = $1 AND {in_org}")))
        .bind(user.as_str())
        .bind(org.as_str())
        .execute(&mut **c)
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash) SELECT id, $3 FROM users WHERE id = $1 AND org_id = $2",
        )
        .bind(user.as_str())
        .bind(org.as_str())
        .bind(h)
        .execute(&mut **c)
        .await?;
    }
    Ok(())
}

/// Uses a recovery code once; false when unknown or already used.
pub async fn use_recovery_code(
    c: &mut WriteTx,
    org: &OrgScope,
    user: &UserId,
    hash: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let res = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL \
         AND user_id IN (SELECT id FROM users WHERE org_id = $4)",
    )
    .bind(user.as_str())
    .bind(hash)
    .bind(now.millis())
    .bind(org.as_str())
    .execute(&mut **c)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn unused_recovery_codes(c: &mut Conn, org: &OrgScope, user: &UserId) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL \
         AND user_id IN (SELECT id FROM users WHERE org_id = $2)",
    )
    .bind(user.as_str())
    .bind(org.as_str())
    .fetch_one(c)
    .await?;
    Ok(n)
}

pub async fn create_challenge(
    c: &mut Conn,
    token_hash: &str,
    org: &OrgId,
    user: &UserId,
    expires_at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO login_challenges (token_hash, user_id, org_id, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user.as_str())
        .bind(org.as_str())
        .bind(expires_at.millis())
        .execute(c)
        .await?;
    Ok(())
}

/// The person a challenge stands for, if it is still valid.
pub async fn challenge(c: &mut Conn, token_hash: &str, now: Timestamp) -> StoreResult<Option<(OrgId, UserId)>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT org_id, user_id FROM login_challenges WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now.millis())
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(o, u)| (OrgId::from_trusted(o), UserId::from_trusted(u))))
}

pub async fn delete_challenge(c: &mut Conn, token_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1").bind(token_hash).execute(c).await?;
    Ok(())
}

/// Ids of the organization's people who have 2FA on.
pub async fn users_with_factor(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT user_id FROM totp_factors WHERE org_id = $1 AND confirmed_at IS NOT NULL")
            .bind(org.as_str())
            .fetch_all(c)
            .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}
