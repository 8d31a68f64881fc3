//! Reading the trail: filters, keyset pages, and packed batches for exports.

use serde::Deserialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::authz::{Actor, ActorKind};
use steward_core::ids::{EventId, OrgId};
use steward_core::pagination::Page;
use steward_core::time::Timestamp;

use super::AuditEvent;
use crate::db::{Conn, Engine};
use crate::row::{Arg, Sql, bind_all, int, json, opt_text, text, time};
use crate::scope::OrgScope;
use crate::{StoreError, StoreResult};

fn from_row(r: &AnyRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: EventId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        seq: int(r, "seq")?,
        occurred_at: time(r, "occurred_at")?,
        action: text(r, "action")?,
        actor: Actor {
            kind: ActorKind::parse(&text(r, "actor_type")?),
            id: opt_text(r, "actor_id")?,
            name: opt_text(r, "actor_name")?,
        },
        target_type: opt_text(r, "target_type")?,
        target_id: opt_text(r, "target_id")?,
        workspace_id: opt_text(r, "workspace_id")?,
        ip: opt_text(r, "ip")?,
        user_agent: opt_text(r, "user_agent")?,
        changes: json(r, "changes")?,
        metadata: json(r, "metadata")?,
    })
}

/// What to show of the trail. Every field narrows; none means everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events strictly before this sequence number (keyset pagination).
    pub before_seq: Option<i64>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub actor_id: Option<String>,
    /// An exact action, or every action of a group (`workspace`).
    pub action: Option<String>,
    pub action_group: Option<String>,
    pub workspace_id: Option<String>,
    pub target_id: Option<String>,
}

const EVENT_COLUMNS: &str = "id, org_id, seq, occurred_at, action, actor_type, actor_id, actor_name, target_type, target_id, \
    workspace_id, ip, user_agent, changes, metadata";

/// Events matching the filter, newest first, at most `limit`.
pub async fn search(c: &mut Conn, org: &OrgScope, f: &Filter, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    let Some(sql) = filtered(c, org, f, EVENT_COLUMNS, limit).await? else { return Ok(Vec::new()) };
    let (text, args) = sql.query();
    bind_all(sqlx::query(sqlx::AssertSqlSafe(text)), args).fetch_all(c).await?.iter().map(from_row).collect()
}

/// The same events as `search`, for big batches (exports). The SQLite driver
/// hands rows over one message at a time, which made exports 2.7 times slower
/// than one JSON array built by SQLite itself; on PostgreSQL plain rows are
/// faster (see docs/benchmarks.md).
pub async fn search_batch(c: &mut Conn, org: &OrgScope, f: &Filter, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    if Engine::of(c) == Engine::Postgres {
        return search(c, org, f, limit).await;
    }
    let Some(sql) = filtered(c, org, f, EVENT_COLUMNS, limit).await? else { return Ok(Vec::new()) };
    let (inner, args) = sql.query();
    let outer =
        format!("SELECT json_group_array(json_array({EVENT_COLUMNS}) ORDER BY seq DESC) FROM ({inner}) AS page");
    let packed: Option<String> =
        bind_all(sqlx::query(sqlx::AssertSqlSafe(outer)), args).fetch_one(c).await.map(|r| r.try_get(0))??;
    let Some(packed) = packed else { return Ok(Vec::new()) };
    let rows: Vec<Packed> =
        serde_json::from_str(&packed).map_err(|e| StoreError::Corrupt(format!("packed audit events: {e}")))?;
    rows.into_iter().map(Packed::into_event).collect()
}

/// One event as `json_array` lays it out: `EVENT_COLUMNS` in order.
#[derive(Deserialize)]
struct Packed(
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Packed {
    fn into_event(self) -> StoreResult<AuditEvent> {
        let json = |v: Option<String>| match v {
            None => Ok(serde_json::Value::Null),
            Some(s) => serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("audit event JSON: {e}"))),
        };
        Ok(AuditEvent {
            id: EventId::from_trusted(self.0),
            org_id: OrgId::from_trusted(self.1),
            seq: self.2,
            occurred_at: Timestamp::from_millis(self.3),
            action: self.4,
            actor: Actor { kind: ActorKind::parse(&self.5), id: self.6, name: self.7 },
            target_type: self.8,
            target_id: self.9,
            workspace_id: self.10,
            ip: self.11,
            user_agent: self.12,
            changes: json(self.13)?,
            metadata: json(self.14)?,
        })
    }
}

/// How many events match the filter (ignoring `before_seq`), counting no
/// further than `cap`: a page says "10,000+" rather than walk a whole trail.
pub async fn count_matching(c: &mut Conn, org: &OrgScope, f: &Filter, cap: i64) -> StoreResult<i64> {
    let f = Filter { before_seq: None, ..f.clone() };
    let Some(sql) = filtered(c, org, &f, "seq", cap).await? else { return Ok(0) };
    let (inner, args) = sql.query();
    let outer = format!("SELECT COUNT(*) FROM ({inner}) AS matching");
    let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(outer)), args).fetch_one(c).await?;
    Ok(row.try_get(0)?)
}

/// The query for `search`, or None when the date range holds no events.
async fn filtered(c: &mut Conn, org: &OrgScope, f: &Filter, columns: &str, limit: i64) -> StoreResult<Option<Sql>> {
    // Times never go backwards within a trail, so a date range is a range of
    // sequence numbers: every filter then walks its (org, column, seq) index
    // newest first and stops after `limit` rows.
    let lowest = match f.from {
        Some(t) => match first_seq_at_or_after(c, org, t).await? {
            Some(seq) => Some(seq),
            None => return Ok(None),
        },
        None => None,
    };
    let highest = match f.to {
        Some(t) => match last_seq_before(c, org, t).await? {
            Some(seq) => Some(seq),
            None => return Ok(None),
        },
        None => None,
    };
    let mut sql = Sql::new(&format!("SELECT {columns} FROM audit_events WHERE org_id = "));
    sql.push("?", [Arg::Text(org.to_string())]);
    if let Some(seq) = f.before_seq {
        sql.push(" AND seq < ?", [Arg::Int(seq)]);
    }
    if let Some(seq) = lowest {
        sql.push(" AND seq >= ?", [Arg::Int(seq)]);
    }
    if let Some(seq) = highest {
        sql.push(" AND seq <= ?", [Arg::Int(seq)]);
    }
    if let Some(v) = &f.actor_id {
        sql.push(" AND actor_id = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.action {
        sql.push(" AND action = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.action_group {
        sql.push(" AND action_group = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.workspace_id {
        sql.push(" AND workspace_id = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.target_id {
        sql.push(" AND target_id = ?", [Arg::Text(v.clone())]);
    }
    sql.push(" ORDER BY seq DESC LIMIT ?", [Arg::Int(limit)]);
    Ok(Some(sql))
}

/// (id, name) of those of `ids` that were deleted workspaces, from the
/// `workspace.deleted` events that recorded their names.
pub async fn deleted_workspace_names(
    c: &mut Conn,
    org: &OrgScope,
    ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT target_id, metadata FROM audit_events WHERE org_id = ");
    sql.push("?", [Arg::Text(org.to_string())]);
    sql.push_list(" AND action = 'workspace.deleted' AND target_id IN ", ids.iter().map(|id| Arg::Text(id.clone())));
    let (query, args) = sql.query();
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(query)), args).fetch_all(c).await?;
    deleted_names(&rows)
}

/// The workspaces deleted most recently (id, name), newest first: what one
/// can still filter the log by after the workspace is gone.
pub async fn deleted_workspaces(c: &mut Conn, org: &OrgScope, limit: i64) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT target_id, metadata FROM audit_events WHERE org_id = $1 AND action = 'workspace.deleted' \
         ORDER BY seq DESC LIMIT $2",
    )
    .bind(org.as_str())
    .bind(limit)
    .fetch_all(c)
    .await?;
    deleted_names(&rows)
}

/// (id, name) of `workspace.deleted` rows; the name is in their metadata.
fn deleted_names(rows: &[AnyRow]) -> StoreResult<Vec<(String, String)>> {
    let mut names = Vec::new();
    for r in rows {
        if let (Some(id), Some(name)) = (opt_text(r, "target_id")?, json(r, "metadata")?["name"].as_str()) {
            names.push((id, name.to_owned()));
        }
    }
    Ok(names)
}

async fn first_seq_at_or_after(c: &mut Conn, org: &OrgScope, t: Timestamp) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT seq FROM audit_events WHERE org_id = $1 AND occurred_at >= $2 ORDER BY occurred_at, seq LIMIT 1",
    )
    .bind(org.as_str())
    .bind(t.millis())
    .fetch_optional(c)
    .await?)
}

async fn last_seq_before(c: &mut Conn, org: &OrgScope, t: Timestamp) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT seq FROM audit_events WHERE org_id = $1 AND occurred_at < $2 ORDER BY occurred_at DESC, seq DESC LIMIT 1",
    )
    .bind(org.as_str())
    .bind(t.millis())
    .fetch_optional(c)
    .await?)
}

/// One page, newest first; the cursor is the last sequence number returned.
pub async fn list(c: &mut Conn, org: &OrgScope, page: &Page) -> StoreResult<Vec<AuditEvent>> {
    let before = match page.after.as_deref().map(str::parse::<i64>) {
        Some(Ok(seq)) => Some(seq),
        Some(Err(_)) => return Ok(Vec::new()),
        None => None,
    };
    search(c, org, &Filter { before_seq: before, ..Filter::default() }, page.fetch_limit()).await
}

pub async fn count(c: &mut Conn, org: &OrgScope) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE org_id = $1").bind(org.as_str()).fetch_one(c).await?;
    Ok(n)
}
