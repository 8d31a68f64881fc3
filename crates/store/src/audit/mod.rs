//! The audit trail: append-only, numbered per organization.

use serde_json::Value;
use steward_core::audit::{Chained, group_of};
use steward_core::authz::Actor;
use steward_core::ids::{EventId, OrgId};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::bulk;
use crate::db::{Audited, Conn, WriteTx};
use crate::organizations;
use crate::row::Arg;
use crate::row::{int, opt_text, text};
use crate::scope::OrgScope;

mod search;
pub use search::{
    Filter, count, count_matching, deleted_workspace_names, deleted_workspaces, list, search, search_batch,
};

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

const INSERT_COLUMNS: [&str; 18] = [
    "id",
    "org_id",
    "seq",
    "occurred_at",
    "action",
    "action_group",
    "actor_type",
    "actor_id",
    "actor_name",
    "target_type",
    "target_id",
    "workspace_id",
    "ip",
    "user_agent",
    "changes",
    "metadata",
    "prev_hash",
    "hash",
];

/// Where the chain stands: the next event links to `hash` and may not be
/// dated before `occurred_at` (times never go backwards within a trail, which
/// lets date filters become ranges of sequence numbers).
struct Head {
    seq: i64,
    hash: String,
    occurred_at: i64,
}

impl Head {
    /// Links the next event to the chain and returns its id and column values.
    fn link(&mut self, e: NewEvent) -> (EventId, Vec<Arg>) {
        let text = |v: Option<String>| v.map(Arg::Text).unwrap_or(Arg::NullText);
        let seq = self.seq + 1;
        let occurred_at = e.occurred_at.millis().max(self.occurred_at);
        let (changes, metadata) = (json_text(&e.changes), json_text(&e.metadata));
        let hash = Chained {
            org_id: e.org_id.as_str(),
            seq,
            occurred_at_ms: occurred_at,
            action: e.action,
            actor_type: e.actor.kind.as_str(),
            actor_id: e.actor.id.as_deref(),
            target_type: e.target_type,
            target_id: e.target_id.as_deref(),
            workspace_id: e.workspace_id.as_deref(),
            changes: changes.as_deref(),
            metadata: metadata.as_deref(),
        }
        .hash(&self.hash);
        let prev_hash = std::mem::replace(&mut self.hash, hash.clone());
        (self.seq, self.occurred_at) = (seq, occurred_at);
        let id = EventId::new();
        let row = vec![
            Arg::Text(id.to_string()),
            Arg::Text(e.org_id.to_string()),
            Arg::Int(seq),
            Arg::Int(occurred_at),
            Arg::Text(e.action.to_owned()),
            Arg::Text(group_of(e.action).to_owned()),
            Arg::Text(e.actor.kind.as_str().to_owned()),
            text(e.actor.id),
            text(e.actor.name),
            text(e.target_type.map(str::to_owned)),
            text(e.target_id),
            text(e.workspace_id),
            text(e.ip),
            text(e.user_agent),
            text(changes),
            text(metadata),
            Arg::Text(prev_hash),
            Arg::Text(hash),
        ];
        (id, row)
    }
}

/// Appends an event inside the caller's transaction. Takes the organization's
/// lock so sequence numbers and the hash chain never fork under concurrent writers.
/// An event that is also a webhook event type enqueues its fan-out in the
/// same transaction, when the organization has an endpoint to send it to.
pub async fn append(tx: &mut WriteTx, e: NewEvent) -> StoreResult<Audited> {
    organizations::lock(tx, &e.org_id).await?;
    let mut head = chain_head(tx, &e.org_id).await?;
    let (action, org_id) = (e.action, e.org_id.clone());
    let (_, row) = head.link(e);
    bulk::insert(tx, "audit_events", &INSERT_COLUMNS, vec![row]).await?;
    if steward_core::webhooks::event_for(action).is_some() && crate::webhooks::any_enabled(tx, &org_id).await? {
        crate::webhooks::enqueue_fanout(tx, &org_id, head.seq, Timestamp::from_millis(head.occurred_at)).await?;
    }
    Ok(Audited(()))
}

/// Appends many events of one organization at once, in order (the demo
/// seeder and benchmarks). Same chain as `append`, one lock.
pub async fn append_many(tx: &mut WriteTx, org: &OrgScope, events: Vec<NewEvent>) -> StoreResult<Audited> {
    organizations::lock(tx, org).await?;
    let mut head = chain_head(tx, org).await?;
    let rows = events.into_iter().filter(|e| &e.org_id == org.id()).map(|e| head.link(e).1).collect();
    bulk::insert(tx, "audit_events", &INSERT_COLUMNS, rows).await?;
    Ok(Audited(()))
}

/// The newest event, or the anchor left by a purge, or the start.
async fn chain_head(c: &mut Conn, org: &OrgId) -> StoreResult<Head> {
    let newest: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT seq, hash, occurred_at FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(org.as_str())
            .fetch_optional(&mut *c)
            .await?;
    if let Some((seq, hash, occurred_at)) = newest {
        return Ok(Head { seq, hash, occurred_at });
    }
    let (seq, hash) = anchor_of(c, org).await?.unwrap_or((0, String::new()));
    Ok(Head { seq, hash, occurred_at: i64::MIN })
}

/// Where the remaining chain starts after a purge: (seq, hash) of the last purged event.
pub async fn anchor(c: &mut Conn, org: &OrgScope) -> StoreResult<Option<(i64, String)>> {
    anchor_of(c, org).await
}

async fn anchor_of(c: &mut Conn, org: &OrgId) -> StoreResult<Option<(i64, String)>> {
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
pub async fn verify(c: &mut Conn, org: &OrgScope) -> StoreResult<Result<i64, Break>> {
    let (mut expected_seq, mut prev) = anchor(c, org).await?.unwrap_or((0, String::new()));
    let mut checked = 0;
    loop {
        let rows = sqlx::query(
            "SELECT seq, occurred_at, action, action_group, actor_type, actor_id, target_type, target_id, workspace_id, changes, metadata, prev_hash, hash \
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
            // Outside the hash (it is derived from the action), but filters rely on it.
            if text(r, "action_group")? != group_of(&action) {
                return Ok(Err(Break { seq, reason: "its action group was changed after it was written".into() }));
            }
            prev = stored;
            expected_seq = seq;
            checked += 1;
        }
    }
}

/// Deletes the oldest events before `cutoff` (retention), at most about
/// `max`, and records the anchor the rest of the chain starts from. Returns how
/// many went and the anchor's seq. Caller holds the org lock.
pub async fn purge_before(
    c: &mut WriteTx,
    org: &OrgScope,
    cutoff: Timestamp,
    now: Timestamp,
    max: i64,
) -> StoreResult<(i64, Option<i64>)> {
    // The last event to go: before the cutoff and within `max` of the oldest.
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_events WHERE org_id = $1 AND occurred_at < $2 \
         AND seq < (SELECT MIN(seq) FROM audit_events WHERE org_id = $1) + $3 ORDER BY seq DESC LIMIT 1",
    )
    .bind(org.as_str())
    .bind(cutoff.millis())
    .bind(max)
    .fetch_optional(&mut **c)
    .await?;
    let Some((seq, hash)) = last else { return Ok((0, None)) };
    // Everything up to that event goes: the chain stays one unbroken tail.
    let res = sqlx::query("DELETE FROM audit_events WHERE org_id = $1 AND seq <= $2")
        .bind(org.as_str())
        .bind(seq)
        .execute(&mut **c)
        .await?;
    sqlx::query(
        "INSERT INTO audit_anchors (org_id, seq, hash, purged_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, purged_at = excluded.purged_at",
    )
    .bind(org.as_str())
    .bind(seq)
    .bind(&hash)
    .bind(now.millis())
    .execute(&mut **c)
    .await?;
    Ok((res.rows_affected() as i64, Some(seq)))
}
