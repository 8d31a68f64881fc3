//! The audit trail: append-only, numbered per organization.

use serde_json::Value;
use sqlx::any::AnyRow;
use steward_core::audit::Chained;
use steward_core::authz::{Actor, ActorKind};
use steward_core::ids::{EventId, OrgId};
use steward_core::pagination::Page;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::Conn;
use crate::organizations;
use crate::row::{int, json, opt_text, text, time};

/// What a use case says about its change.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub org_id: OrgId,
    pub action: &'static str,
    pub actor: Actor,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub workspace_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `{"field": {"before": …, "after": …}}` or null.
    pub changes: Value,
    pub metadata: Value,
    pub occurred_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: EventId,
    pub org_id: OrgId,
    pub seq: i64,
    pub occurred_at: Timestamp,
    pub action: String,
    pub actor: Actor,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub workspace_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub changes: Value,
    pub metadata: Value,
}

fn json_text(v: &Value) -> Option<String> {
    if v.is_null() { None } else { Some(v.to_string()) }
}

/// Appends an event inside the caller's transaction. Takes the organization's
/// lock so sequence numbers never collide under concurrent writers.
pub async fn append(c: &mut Conn, e: NewEvent) -> StoreResult<EventId> {
    organizations::lock(c, &e.org_id).await?;
    let (last, prev_hash) = chain_head(c, &e.org_id).await?;
    let id = EventId::new();
    let changes = json_text(&e.changes);
    let metadata = json_text(&e.metadata);
    let hash = Chained {
        org_id: e.org_id.as_str(),
        seq: last + 1,
        occurred_at_ms: e.occurred_at.millis(),
        action: e.action,
        actor_type: e.actor.kind.as_str(),
        actor_id: e.actor.id.as_deref(),
        target_type: e.target_type,
        target_id: e.target_id.as_deref(),
        workspace_id: e.workspace_id.as_deref(),
        changes: changes.as_deref(),
        metadata: metadata.as_deref(),
    }
    .hash(&prev_hash);
    sqlx::query(
        "INSERT INTO audit_events (id, org_id, seq, occurred_at, action, actor_type, actor_id, actor_name, target_type, target_id, \
         workspace_id, ip, user_agent, changes, metadata, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(id.as_str())
    .bind(e.org_id.as_str())
    .bind(last + 1)
    .bind(e.occurred_at.millis())
    .bind(e.action)
    .bind(e.actor.kind.as_str())
    .bind(&e.actor.id)
    .bind(&e.actor.name)
    .bind(e.target_type)
    .bind(&e.target_id)
    .bind(&e.workspace_id)
    .bind(&e.ip)
    .bind(&e.user_agent)
    .bind(changes)
    .bind(metadata)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(c)
    .await?;
    Ok(id)
}

/// The last sequence number and hash of the chain: the newest event, or the
/// anchor left by a purge, or the start.
async fn chain_head(c: &mut Conn, org: &OrgId) -> StoreResult<(i64, String)> {
    let newest: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(org.as_str())
            .fetch_optional(&mut *c)
            .await?;
    if let Some(head) = newest {
        return Ok(head);
    }
    Ok(anchor(c, org).await?.unwrap_or((0, String::new())))
}

/// Where the remaining chain starts after a purge: (seq, hash) of the last purged event.
pub async fn anchor(c: &mut Conn, org: &OrgId) -> StoreResult<Option<(i64, String)>> {
    Ok(sqlx::query_as("SELECT seq, hash FROM audit_anchors WHERE org_id = $1")
        .bind(org.as_str())
        .fetch_optional(c)
        .await?)
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Walks an organization's chain from its anchor; `Ok(count)` when intact.
pub async fn verify(c: &mut Conn, org: &OrgId) -> StoreResult<Result<i64, Break>> {
    let (mut expected_seq, mut prev) = anchor(c, org).await?.unwrap_or((0, String::new()));
    let mut checked = 0;
    loop {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, action, actor_type, actor_id, target_type, target_id, workspace_id, changes, metadata, prev_hash, hash \
             FROM audit_events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 2000",
        )
        .bind(org.as_str())
        .bind(expected_seq)
        .fetch_all(&mut *c)
        .await?;
        if rows.is_empty() {
            return Ok(Ok(checked));
        }
        for r in &rows {
            let seq = int(r, "seq")?;
            if seq != expected_seq + 1 {
                return Ok(Err(Break {
                    seq: expected_seq + 1,
                    reason: format!("event {} is missing", expected_seq + 1),
                }));
            }
            let stored_prev = text(r, "prev_hash")?;
            if stored_prev != prev {
                return Ok(Err(Break { seq, reason: "its link to the previous event does not match".into() }));
            }
            let (action, actor_type) = (text(r, "action")?, text(r, "actor_type")?);
            let (actor_id, target_type, target_id, workspace_id) = (
                opt_text(r, "actor_id")?,
                opt_text(r, "target_type")?,
                opt_text(r, "target_id")?,
                opt_text(r, "workspace_id")?,
            );
            let (changes, metadata) = (opt_text(r, "changes")?, opt_text(r, "metadata")?);
            let recomputed = Chained {
                org_id: org.as_str(),
                seq,
                occurred_at_ms: int(r, "occurred_at")?,
                action: &action,
                actor_type: &actor_type,
                actor_id: actor_id.as_deref(),
                target_type: target_type.as_deref(),
                target_id: target_id.as_deref(),
                workspace_id: workspace_id.as_deref(),
                changes: changes.as_deref(),
                metadata: metadata.as_deref(),
            }
            .hash(&prev);
            let stored = text(r, "hash")?;
            if recomputed != stored {
                return Ok(Err(Break { seq, reason: "its content was changed after it was written".into() }));
            }
            prev = stored;
            expected_seq = seq;
            checked += 1;
        }
    }
}

/// Deletes events before `cutoff` (retention) and records the anchor the rest
/// of the chain starts from. Returns how many went. Caller holds the org lock.
pub async fn purge_before(
    c: &mut Conn,
    org: &OrgId,
    cutoff: Timestamp,
    now: Timestamp,
) -> StoreResult<(i64, Option<i64>)> {
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_events WHERE org_id = $1 AND occurred_at < $2 ORDER BY seq DESC LIMIT 1",
    )
    .bind(org.as_str())
    .bind(cutoff.millis())
    .fetch_optional(&mut *c)
    .await?;
    let Some((seq, hash)) = last else { return Ok((0, None)) };
    // Everything up to that event goes: the chain stays one unbroken tail.
    let res = sqlx::query("DELETE FROM audit_events WHERE org_id = $1 AND seq <= $2")
        .bind(org.as_str())
        .bind(seq)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO audit_anchors (org_id, seq, hash, purged_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, purged_at = excluded.purged_at",
    )
    .bind(org.as_str())
    .bind(seq)
    .bind(&hash)
    .bind(now.millis())
    .execute(c)
    .await?;
    Ok((res.rows_affected() as i64, Some(seq)))
}

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
    /// An exact action, or every action under a prefix (`workspace.`).
    pub action: Option<String>,
    pub action_prefix: Option<String>,
    pub workspace_id: Option<String>,
    pub target_id: Option<String>,
}

const EVENT_COLUMNS: &str = "id, org_id, seq, occurred_at, action, actor_type, actor_id, actor_name, target_type, target_id, \
    workspace_id, ip, user_agent, changes, metadata";

/// Events matching the filter, newest first, at most `limit`.
pub async fn search(c: &mut Conn, org: &OrgId, f: &Filter, limit: i64) -> StoreResult<Vec<AuditEvent>> {
    use crate::row::{Arg, Sql, bind_all};
    let mut sql = Sql::new(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE org_id = "));
    sql.push("?", [Arg::Text(org.to_string())]);
    if let Some(seq) = f.before_seq {
        sql.push(" AND seq < ?", [Arg::Int(seq)]);
    }
    if let Some(t) = f.from {
        sql.push(" AND occurred_at >= ?", [Arg::Int(t.millis())]);
    }
    if let Some(t) = f.to {
        sql.push(" AND occurred_at < ?", [Arg::Int(t.millis())]);
    }
    if let Some(v) = &f.actor_id {
        sql.push(" AND actor_id = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.action {
        sql.push(" AND action = ?", [Arg::Text(v.clone())]);
    }
    if let Some(p) = &f.action_prefix {
        // Action names are lower-case ASCII with dots and underscores; `_` is escaped.
        let pattern = format!("{}%", p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sql.push(" AND action LIKE ? ESCAPE '\\'", [Arg::Text(pattern)]);
    }
    if let Some(v) = &f.workspace_id {
        sql.push(" AND workspace_id = ?", [Arg::Text(v.clone())]);
    }
    if let Some(v) = &f.target_id {
        sql.push(" AND target_id = ?", [Arg::Text(v.clone())]);
    }
    sql.push(" ORDER BY seq DESC LIMIT ?", [Arg::Int(limit)]);
    let (text, args) = sql.query();
    bind_all(sqlx::query(sqlx::AssertSqlSafe(text)), args).fetch_all(c).await?.iter().map(from_row).collect()
}

/// One page, newest first; the cursor is the last sequence number returned.
pub async fn list(c: &mut Conn, org: &OrgId, page: &Page) -> StoreResult<Vec<AuditEvent>> {
    let before = match page.after.as_deref().map(str::parse::<i64>) {
        Some(Ok(seq)) => Some(seq),
        Some(Err(_)) => return Ok(Vec::new()),
        None => None,
    };
    search(c, org, &Filter { before_seq: before, ..Filter::default() }, page.fetch_limit()).await
}

pub async fn count(c: &mut Conn, org: &OrgId) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE org_id = $1").bind(org.as_str()).fetch_one(c).await?;
    Ok(n)
}
