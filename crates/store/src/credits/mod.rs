//! The credit ledger of an organization: its account (the balance), the
//! grants debits draw from, and the append-only entries. Every change of the
//! balance goes through [`change_balance`] first, a conditional UPDATE of the
//! account's one row: concurrent debits queue there, never overdraw (and the
//! CHECK says so too), and each entry records the exact balance after it.

pub mod alerts;
pub mod budgets;
pub mod idempotency;
pub mod usage;

use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::credits::{Category, EntryKind, Lot};
use steward_core::ids::{CreditEntryId, GrantId, OrgId};
use steward_core::pagination::Page;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{Arg, Sql, all, int, json, one, opt_text, opt_time, parsed, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: GrantId,
    pub org_id: OrgId,
    pub category: Category,
    pub priority: i64,
    pub amount: i64,
    pub remaining: i64,
    pub effective_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub expired_at: Option<Timestamp>,
    pub reason: String,
    pub created_at: Timestamp,
}

impl Grant {
    pub fn lot(&self) -> Lot {
        Lot {
            id: self.id.to_string(),
            category: self.category,
            priority: self.priority,
            remaining: self.remaining,
            effective_at: self.effective_at,
            expires_at: self.expires_at,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: CreditEntryId,
    pub org_id: OrgId,
    pub kind: EntryKind,
    /// Signed: a debit or expiry is negative.
    pub amount: i64,
    pub balance_after: i64,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
    pub campaign_id: Option<String>,
    pub grant_id: Option<String>,
    pub refunds_id: Option<String>,
    pub refunded: i64,
    pub reason: String,
    pub metadata: serde_json::Value,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub occurred_at: Timestamp,
}

const GRANT_COLUMNS: &str =
    "id, org_id, category, priority, amount, remaining, effective_at, expires_at, expired_at, reason, created_at";
const ENTRY_COLUMNS: &str = "id, org_id, kind, amount, balance_after, workspace_id, user_id, campaign_id, grant_id, \
    refunds_id, refunded, reason, metadata, actor_type, actor_id, occurred_at";

fn grant(r: &AnyRow) -> StoreResult<Grant> {
    Ok(Grant {
        id: GrantId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        category: parsed(r, "category", Category::parse)?,
        priority: int(r, "priority")?,
        amount: int(r, "amount")?,
        remaining: int(r, "remaining")?,
        effective_at: time(r, "effective_at")?,
        expires_at: opt_time(r, "expires_at")?,
        expired_at: opt_time(r, "expired_at")?,
        reason: text(r, "reason")?,
        created_at: time(r, "created_at")?,
    })
}

fn entry(r: &AnyRow) -> StoreResult<Entry> {
    Ok(Entry {
        id: CreditEntryId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        kind: parsed(r, "kind", EntryKind::parse)?,
        amount: int(r, "amount")?,
        balance_after: int(r, "balance_after")?,
        workspace_id: opt_text(r, "workspace_id")?,
        user_id: opt_text(r, "user_id")?,
        campaign_id: opt_text(r, "campaign_id")?,
        grant_id: opt_text(r, "grant_id")?,
        refunds_id: opt_text(r, "refunds_id")?,
        refunded: int(r, "refunded")?,
        reason: text(r, "reason")?,
        metadata: json(r, "metadata")?,
        actor_type: text(r, "actor_type")?,
        actor_id: opt_text(r, "actor_id")?,
        occurred_at: time(r, "occurred_at")?,
    })
}

fn opt(v: &Option<String>) -> Arg {
    v.as_ref().map_or(Arg::NullText, |s| Arg::Text(s.clone()))
}

/// The balance: what is left of every grant not yet written off.
pub async fn balance(c: &mut Conn, org: &OrgScope) -> StoreResult<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT balance FROM credit_accounts WHERE org_id = $1")
        .bind(org.as_str())
        .fetch_optional(c)
        .await?;
    Ok(row.map_or(0, |(b,)| b))
}

/// Adds `delta` (negative for a debit) to the balance unless that would take
/// it below zero; the balance after, or `None` when it would. Holds the
/// account's row until the transaction ends, so it serializes the ledger.
pub async fn change_balance(tx: &mut WriteTx, org: &OrgScope, delta: i64, now: Timestamp) -> StoreResult<Option<i64>> {
    if delta > 0 {
        sqlx::query(
            "INSERT INTO credit_accounts (org_id, balance, updated_at) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING",
        )
        .bind(org.as_str())
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    }
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE credit_accounts SET balance = balance + $2, updated_at = $3 \
         WHERE org_id = $1 AND balance + $2 >= 0 RETURNING balance",
    )
    .bind(org.as_str())
    .bind(delta)
    .bind(now.millis())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(b,)| b))
}

/// The grants a debit at `now` may draw from.
pub async fn usable_grants(c: &mut Conn, org: &OrgScope, now: Timestamp) -> StoreResult<Vec<Grant>> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM credit_grants WHERE org_id = $1 AND remaining > 0 AND effective_at <= $2 \
         AND (expires_at IS NULL OR expires_at > $2) ORDER BY priority, created_at"
    );
    all(c, sql, vec![org.as_str().into(), now.millis().into()], grant).await
}

/// Every grant with something left, for the balance's breakdown.
pub async fn open_grants(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<Grant>> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM credit_grants WHERE org_id = $1 AND remaining > 0 AND expired_at IS NULL \
         ORDER BY priority, created_at"
    );
    all(c, sql, vec![org.as_str().into()], grant).await
}

pub async fn insert_grant(tx: &mut WriteTx, g: &Grant) -> StoreResult<()> {
    let sql =
        format!("INSERT INTO credit_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    let args = vec![
        g.id.as_str().into(),
        g.org_id.as_str().into(),
        g.category.as_str().into(),
        g.priority.into(),
        g.amount.into(),
        g.remaining.into(),
        g.effective_at.millis().into(),
        g.expires_at.map_or(Arg::NullInt, |t| Arg::Int(t.millis())),
        g.expired_at.map_or(Arg::NullInt, |t| Arg::Int(t.millis())),
        g.reason.as_str().into(),
        g.created_at.millis().into(),
    ];
    crate::row::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args).execute(&mut **tx).await?;
    Ok(())
}

/// Moves `delta` into (positive) or out of (negative) a grant's remainder,
/// never below zero nor above what was granted; whether it could.
pub async fn adjust_grant(tx: &mut WriteTx, org: &OrgScope, id: &str, delta: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE credit_grants SET remaining = remaining + $3 \
         WHERE org_id = $1 AND id = $2 AND remaining + $3 >= 0 AND remaining + $3 <= amount",
    )
    .bind(org.as_str())
    .bind(id)
    .bind(delta)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `amount` back to a grant (a refund), unless it has expired by
/// `now` or been written off, or would hold more than was granted; whether it did.
pub async fn give_back(tx: &mut WriteTx, org: &OrgScope, id: &str, amount: i64, now: Timestamp) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE credit_grants SET remaining = remaining + $3 WHERE org_id = $1 AND id = $2 \
         AND expired_at IS NULL AND (expires_at IS NULL OR expires_at > $4) AND remaining + $3 <= amount",
    )
    .bind(org.as_str())
    .bind(id)
    .bind(amount)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Appends an entry and the grants it touched.
pub async fn insert_entry(tx: &mut WriteTx, e: &Entry, touched: &[(String, i64)]) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO credit_entries ({ENTRY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    );
    let args = vec![
        e.id.as_str().into(),
        e.org_id.as_str().into(),
        e.kind.as_str().into(),
        e.amount.into(),
        e.balance_after.into(),
        opt(&e.workspace_id),
        opt(&e.user_id),
        opt(&e.campaign_id),
        opt(&e.grant_id),
        opt(&e.refunds_id),
        e.refunded.into(),
        e.reason.as_str().into(),
        Arg::Text(e.metadata.to_string()),
        e.actor_type.as_str().into(),
        opt(&e.actor_id),
        e.occurred_at.millis().into(),
    ];
    crate::row::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args).execute(&mut **tx).await?;
    for (grant_id, amount) in touched {
        sqlx::query("INSERT INTO credit_entry_grants (entry_id, grant_id, org_id, amount) VALUES ($1, $2, $3, $4)")
            .bind(e.id.as_str())
            .bind(grant_id.as_str())
            .bind(e.org_id.as_str())
            .bind(*amount)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn get_entry(c: &mut Conn, org: &OrgScope, id: &CreditEntryId) -> StoreResult<Option<Entry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM credit_entries WHERE org_id = $1 AND id = $2");
    one(c, sql, vec![org.as_str().into(), id.as_str().into()], entry).await
}

/// The grants an entry drew from (a debit) or gave back to (a refund), and how much.
pub async fn entry_grants(c: &mut Conn, org: &OrgScope, id: &CreditEntryId) -> StoreResult<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT grant_id, amount FROM credit_entry_grants WHERE org_id = $1 AND entry_id = $2 ORDER BY grant_id",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>("grant_id")?, r.try_get::<i64, _>("amount")?))).collect()
}

/// Counts `amount` more of debit `id` as refunded, unless that would refund
/// more than was debited; whether it could.
pub async fn note_refund(tx: &mut WriteTx, org: &OrgScope, id: &CreditEntryId, amount: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE credit_entries SET refunded = refunded + $3 \
         WHERE org_id = $1 AND id = $2 AND kind = 'debit' AND refunded + $3 <= -amount",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(amount)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the transaction history is filtered by.
#[derive(Debug, Default, Clone)]
pub struct EntryFilter {
    pub kind: Option<EntryKind>,
    pub workspace_id: Option<String>,
    pub user_id: Option<String>,
    pub campaign_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Entries newest first, `limit` of them after the page's cursor (an entry id).
pub async fn entries(c: &mut Conn, org: &OrgScope, f: &EntryFilter, page: &Page) -> StoreResult<Vec<Entry>> {
    let mut sql = Sql::new(&format!("SELECT {ENTRY_COLUMNS} FROM credit_entries WHERE org_id = "));
    sql.push("?", [org.as_str().into()]);
    if let Some(k) = f.kind {
        sql.push(" AND kind = ?", [k.as_str().into()]);
    }
    for (col, v) in [("workspace_id", &f.workspace_id), ("user_id", &f.user_id), ("campaign_id", &f.campaign_id)] {
        if let Some(v) = v {
            sql.push(&format!(" AND {col} = ?"), [v.as_str().into()]);
        }
    }
    if let Some(t) = f.from {
        sql.push(" AND occurred_at >= ?", [t.millis().into()]);
    }
    if let Some(t) = f.to {
        sql.push(" AND occurred_at < ?", [t.millis().into()]);
    }
    if let Some(after) = &page.after {
        sql.push(" AND id < ?", [after.as_str().into()]);
    }
    sql.push(" ORDER BY id DESC LIMIT ?", [page.fetch_limit().into()]);
    let (text, args) = sql.query();
    all(c, text, args, entry).await
}

/// The organization's grants past their expiry and not yet written off, oldest first.
pub async fn expired_grants(c: &mut Conn, org: &OrgScope, now: Timestamp, limit: i64) -> StoreResult<Vec<Grant>> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM credit_grants WHERE org_id = $1 AND remaining > 0 AND expired_at IS NULL \
         AND expires_at IS NOT NULL AND expires_at <= $2 ORDER BY expires_at LIMIT $3"
    );
    all(c, sql, vec![org.as_str().into(), now.millis().into(), limit.into()], grant).await
}

/// Writes a grant's remainder off: nothing is left, and it says when.
pub async fn write_off(tx: &mut WriteTx, org: &OrgScope, id: &GrantId, now: Timestamp) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "UPDATE credit_grants SET expired_at = $3 WHERE org_id = $1 AND id = $2 AND expired_at IS NULL RETURNING remaining",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(now.millis())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((left,)) = row else { return Ok(None) };
    sqlx::query("UPDATE credit_grants SET remaining = 0 WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(Some(left))
}

/// Whether `campaign` is a campaign of workspace `ws`.
pub async fn campaign_in(
    c: &mut Conn,
    org: &OrgScope,
    ws: &steward_core::ids::WorkspaceId,
    campaign: &steward_core::ids::CampaignId,
) -> StoreResult<bool> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM campaigns WHERE org_id = $1 AND workspace_id = $2 AND id = $3")
            .bind(org.as_str())
            .bind(ws.as_str())
            .bind(campaign.as_str())
            .fetch_optional(c)
            .await?;
    Ok(found.is_some())
}

/// What the refunds of debit `id` gave back, per grant.
pub async fn refunded_to(c: &mut Conn, org: &OrgScope, id: &CreditEntryId) -> StoreResult<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT g.grant_id, g.amount FROM credit_entry_grants g JOIN credit_entries e ON e.id = g.entry_id \
         WHERE e.org_id = $1 AND e.refunds_id = $2",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_all(c)
    .await?;
    rows.iter().map(|r| Ok((r.try_get::<String, _>("grant_id")?, r.try_get::<i64, _>("amount")?))).collect()
}

/// Whether the organization's ledger has any entry.
pub async fn has_entries(c: &mut Conn, org: &OrgScope) -> StoreResult<bool> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM credit_entries WHERE org_id = $1 LIMIT 1")
        .bind(org.as_str())
        .fetch_optional(c)
        .await?;
    Ok(found.is_some())
}

/// Adds to the balance without the checks of [`change_balance`]: for a
/// history written in bulk (the demo seed), whose entries say the same.
pub async fn add_to_balance(tx: &mut WriteTx, org: &OrgScope, amount: i64, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO credit_accounts (org_id, balance, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET balance = credit_accounts.balance + excluded.balance, updated_at = excluded.updated_at",
    )
    .bind(org.as_str())
    .bind(amount)
    .bind(now.millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
