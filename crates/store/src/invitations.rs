//! Invitations: an expiring, single-use token that lets an invited person set a
//! password. Only the token's SHA-256 is stored.

use sqlx::any::AnyRow;
use steward_core::ids::{InvitationId, OrgId, UserId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{opt_text, opt_time, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub token_hash: String,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
}

fn from_row(r: &AnyRow) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: InvitationId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        user_id: UserId::from_trusted(text(r, "user_id")?),
        token_hash: text(r, "token_hash")?,
        created_by: opt_text(r, "created_by")?,
        created_at: time(r, "created_at")?,
        expires_at: time(r, "expires_at")?,
        accepted_at: opt_time(r, "accepted_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &OrgScope, i: &Invitation) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO invitations (id, org_id, user_id, token_hash, created_by, created_at, expires_at, accepted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(i.id.as_str())
    .bind(org.as_str())
    .bind(i.user_id.as_str())
    .bind(&i.token_hash)
    .bind(&i.created_by)
    .bind(i.created_at.millis())
    .bind(i.expires_at.millis())
    .bind(i.accepted_at.map(Timestamp::millis))
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn by_token_hash(c: &mut Conn, token_hash: &str) -> StoreResult<Option<Invitation>> {
    sqlx::query(
        "SELECT id, org_id, user_id, token_hash, created_by, created_at, expires_at, accepted_at FROM invitations WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Marks the invitation used; false when it was used meanwhile (a replay).
pub async fn mark_accepted(c: &mut WriteTx, id: &InvitationId, now: Timestamp) -> StoreResult<bool> {
    let res = sqlx::query("UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL")
        .bind(id.as_str())
        .bind(now.millis())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Drops a user's unused invitations (a new one replaces them).
pub async fn delete_pending_for_user(c: &mut WriteTx, org: &OrgScope, user: &UserId) -> StoreResult<()> {
    sqlx::query("DELETE FROM invitations WHERE org_id = $1 AND user_id = $2 AND accepted_at IS NULL")
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&mut **c)
        .await?;
    Ok(())
}
