//! API keys. Only the SHA-256 of a key is stored; lists show a prefix and the
//! last four characters.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use steward_core::ids::{ApiKeyId, OrgId, UserId};
use steward_core::pagination::Page;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::organizations::OrgSummary;
use crate::row::{opt_text, opt_time, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    pub prefix: String,
    pub last4: String,
    pub key_hash: String,
    /// Permission names and bundles (`admin`, `read`), as given when it was made.
    pub scopes: Vec<String>,
    /// Requests a minute the key may make.
    pub rate_limit_per_minute: i64,
    pub created_by: Option<UserId>,
    pub created_by_name: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, org_id, name, prefix, last4, key_hash, scopes, rate_limit_per_minute, created_by, created_by_name, created_at, last_used_at, expires_at, revoked_at";

fn from_row(r: &AnyRow) -> StoreResult<ApiKey> {
    let scopes = text(r, "scopes")?.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    Ok(ApiKey {
        id: ApiKeyId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        name: text(r, "name")?,
        prefix: text(r, "prefix")?,
        last4: text(r, "last4")?,
        key_hash: text(r, "key_hash")?,
        scopes,
        rate_limit_per_minute: crate::row::int(r, "rate_limit_per_minute")?,
        created_by: opt_text(r, "created_by")?.map(UserId::from_trusted),
        created_by_name: opt_text(r, "created_by_name")?,
        created_at: time(r, "created_at")?,
        last_used_at: opt_time(r, "last_used_at")?,
        expires_at: opt_time(r, "expires_at")?,
        revoked_at: opt_time(r, "revoked_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &OrgScope, k: &ApiKey) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, org_id, name, prefix, last4, key_hash, scopes, created_by, created_by_name, created_at, last_used_at, expires_at, revoked_at, rate_limit_per_minute) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(k.id.as_str())
    .bind(org.as_str())
    .bind(&k.name)
    .bind(&k.prefix)
    .bind(&k.last4)
    .bind(&k.key_hash)
    .bind(k.scopes.join(" "))
    .bind(k.created_by.as_ref().map(UserId::as_str))
    .bind(&k.created_by_name)
    .bind(k.created_at.millis())
    .bind(k.last_used_at.map(Timestamp::millis))
    .bind(k.expires_at.map(Timestamp::millis))
    .bind(k.revoked_at.map(Timestamp::millis))
    .bind(k.rate_limit_per_minute)
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// Writes a key's name, scopes, limit and expiry; every instance drops its
/// cached copy when the transaction commits, so the change holds at once.
pub async fn update(c: &mut WriteTx, org: &OrgScope, k: &ApiKey) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_keys SET name = $3, scopes = $4, rate_limit_per_minute = $5, expires_at = $6 \
         WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(org.as_str())
    .bind(k.id.as_str())
    .bind(&k.name)
    .bind(k.scopes.join(" "))
    .bind(k.rate_limit_per_minute)
    .bind(k.expires_at.map(Timestamp::millis))
    .execute(&mut **c)
    .await?;
    c.key_changed(k.key_hash.clone()).await
}

/// A key found by its hash, with its organization: what authenticating a
/// request needs, in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWithOrg {
    pub key: ApiKey,
    pub org: OrgSummary,
}

pub async fn by_hash(c: &mut Conn, key_hash: &str) -> StoreResult<Option<KeyWithOrg>> {
    let columns = COLUMNS.split(", ").map(|c| format!("k.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {columns}, o.name AS o_name, o.slug AS o_slug FROM api_keys k JOIN organizations o ON o.id = k.org_id \
         WHERE k.key_hash = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql)).bind(key_hash).fetch_optional(c).await?;
    row.as_ref()
        .map(|r| {
            let key = from_row(r)?;
            let org = OrgSummary { id: key.org_id.clone(), name: text(r, "o_name")?, slug: text(r, "o_slug")? };
            Ok(KeyWithOrg { key, org })
        })
        .transpose()
}

/// A key of this organization that is not revoked.
pub async fn get(c: &mut Conn, org: &OrgScope, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL");
    crate::row::one(c, sql, vec![org.as_str().into(), id.as_str().into()], from_row).await
}

/// Keys that are not revoked, oldest first.
pub async fn list(c: &mut Conn, org: &OrgScope, page: &Page) -> StoreResult<Vec<ApiKey>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL AND id > $2 ORDER BY id LIMIT $3"
    );
    crate::row::all(
        c,
        sql,
        vec![org.as_str().into(), page.after.as_deref().unwrap_or("").into(), page.fetch_limit().into()],
        from_row,
    )
    .await
}

pub async fn revoke(c: &mut WriteTx, org: &OrgScope, id: &ApiKeyId, now: Timestamp) -> StoreResult<bool> {
    let revoked: Option<(String,)> = sqlx::query_as(
        "UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING key_hash",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(now.millis())
    .fetch_optional(&mut **c)
    .await?;
    match revoked {
        Some((hash,)) => {
            c.key_changed(hash).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// How often `last_used_at` moves: callers skip [`touch`] within it.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// Records use, at most once a minute per key so busy keys don't write on every request.
pub async fn touch(c: &mut Conn, id: &ApiKeyId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(id.as_str())
        .bind(now.millis())
        .bind(now.millis() - 60_000)
        .execute(c)
        .await?;
    Ok(())
}
