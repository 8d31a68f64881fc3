//! Reading the audit trail (SEC-5): filters, keyset pages, and exports.

use std::collections::HashMap;
use steward_core::messages::rule;

use serde::Deserialize;
use steward_core::audit::{ACTIONS, action_groups};
use steward_core::ids::{ApiKeyId, UserId, WorkspaceId};
use steward_core::pagination::{Page, decode_cursor, encode_cursor, invalid_cursor};
use steward_core::permissions::Permission;
use steward_core::validate::Fields;
use steward_core::{Error, Result};
use steward_store::audit::{self, AuditEvent, Filter};
use steward_store::{Db, OrgScope};

use super::Ctx;

/// The longest date range one request may ask for.
pub const MAX_SPAN_DAYS: i64 = 366;

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Events before this time (RFC 3339).
    pub to: Option<String>,
    /// A user (`usr_…`) or API key (`key_…`) id.
    pub actor: Option<String>,
    /// An action (`workspace.suspended`) or a group (`workspace.*`).
    pub action: Option<String>,
    /// A workspace id (`ws_…`).
    pub workspace: Option<String>,
    /// The id of the object acted on.
    pub target: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Checks the query and turns it into a store filter (without the cursor).
pub fn filter(q: &AuditQuery) -> Result<Filter> {
    let mut f = Fields::new();
    let from = f.time("from", q.from.as_deref());
    let to = f.time("to", q.to.as_deref());
    if let (Some(a), Some(b)) = (from, to) {
        if b <= a {
            f.push("to", &rule::BEFORE_START, &[]);
        } else if b.millis() - a.millis() > MAX_SPAN_DAYS * 86_400_000 {
            f.push("to", &rule::RANGE_TOO_LONG, &[("days", &MAX_SPAN_DAYS)]);
        }
    }
    let actor = q.actor.as_deref().filter(|v| !v.is_empty()).map(|v| {
        if v.parse::<UserId>().is_err() && v.parse::<ApiKeyId>().is_err() {
            f.push("actor", &rule::INVALID_ID, &[("expected", &"a user id (usr_…) or an API key id (key_…)")]);
        }
        v.to_owned()
    });
    let (mut action, mut action_group) = (None, None);
    if let Some(a) = q.action.as_deref().filter(|v| !v.is_empty()) {
        match a.strip_suffix(".*") {
            Some(group) if action_groups().contains(&group) => action_group = Some(group.to_owned()),
            None if ACTIONS.contains(&a) => action = Some(a.to_owned()),
            _ => f.push("action", &rule::UNKNOWN_ACTION, &[]),
        }
    }
    let workspace = q.workspace.as_deref().filter(|v| !v.is_empty()).map(|v| {
        if v.parse::<WorkspaceId>().is_err() {
            f.push("workspace", &rule::INVALID_ID, &[("expected", &"a workspace id (ws_…)")]);
        }
        v.to_owned()
    });
    let target = q.target.as_deref().filter(|v| !v.is_empty()).map(|v| {
        if v.len() > 100 {
            f.push("target", &rule::TOO_LONG, &[("max", &100)]);
        }
        v.to_owned()
    });
    f.finish()?;
    Ok(Filter {
        before_seq: None,
        from,
        to,
        actor_id: actor,
        action,
        action_group,
        workspace_id: workspace,
        target_id: target,
    })
}

pub async fn list(db: &Db, ctx: &Ctx, q: &AuditQuery) -> Result<(Vec<AuditEvent>, Option<String>)> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let mut f = filter(q)?;
    let page = Page::parse(q.limit, None)?;
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let seq = decode_cursor(c)?.parse::<i64>().map_err(|_| invalid_cursor(""))?;
        f.before_seq = Some(seq);
    }
    let mut c = db.conn().await?;
    let mut rows = audit::search(&mut c, &org, &f, page.fetch_limit()).await?;
    let next = if rows.len() > page.limit as usize {
        rows.truncate(page.limit as usize);
        rows.last().map(|e| encode_cursor(&e.seq.to_string()))
    } else {
        None
    };
    Ok((rows, next))
}

/// Counting stops here: past it a page says "more than 10,000".
pub const COUNT_CAP: i64 = 10_000;

/// How many events match the query's filters (all pages), up to `COUNT_CAP`
/// and one more, so the caller can tell "exactly 10,000" from "more".
pub async fn count(db: &Db, ctx: &Ctx, q: &AuditQuery) -> Result<i64> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let f = filter(q)?;
    let mut c = db.conn().await?;
    Ok(audit::count_matching(&mut c, &org, &f, COUNT_CAP + 1).await?)
}

/// Events for an export, a batch at a time (constant memory): the next batch
/// after `before_seq`, in the scope [`start_export`] gave.
pub async fn export_batch(
    db: &Db,
    org: &OrgScope,
    f: &Filter,
    before_seq: Option<i64>,
    size: i64,
) -> Result<Vec<AuditEvent>> {
    let mut c = db.conn().await?;
    let f = Filter { before_seq, ..f.clone() };
    Ok(audit::search_batch(&mut c, org, &f, size).await?)
}

/// Checks access to exports and records that one was taken; the scope and
/// filter the batches are read with.
pub async fn start_export(db: &Db, ctx: &Ctx, q: &AuditQuery, format: &str) -> Result<(OrgScope, Filter)> {
    let org = ctx.authorize(Permission::AuditExport)?;
    let f = filter(q)?;
    if !matches!(format, "csv" | "json") {
        return Err(Error::field("format", &rule::NOT_ONE_OF, &[("allowed", &"csv, json")]));
    }
    let mut tx = db.write(&org).await?;
    let meta = serde_json::json!({ "format": format, "from": q.from, "to": q.to, "actor": q.actor, "action": q.action, "workspace": q.workspace });
    let e = super::EventExt::metadata(ctx.event(&org, "audit.exported", "organization", org.id()), meta);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok((org, f))
}

/// The console's user filter takes an email (or an id); the API's takes ids.
pub async fn resolve_actor(db: &Db, ctx: &Ctx, input: &str) -> Result<String> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let input = input.trim();
    if input.parse::<UserId>().is_ok() || input.parse::<ApiKeyId>().is_ok() {
        return Ok(input.to_owned());
    }
    let mut c = db.conn().await?;
    match steward_store::users::by_email(&mut c, &org, &input.to_lowercase()).await? {
        Some(u) => Ok(u.id.to_string()),
        None => Err(Error::field("actor", &rule::UNKNOWN_PERSON, &[("email", &input)])),
    }
}

/// The console's workspace filter takes a slug (or an id).
pub async fn resolve_workspace(db: &Db, ctx: &Ctx, input: &str) -> Result<String> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let input = input.trim();
    if input.parse::<WorkspaceId>().is_ok() {
        return Ok(input.to_owned());
    }
    let mut c = db.conn().await?;
    match steward_store::workspaces::by_slug(&mut c, &org, &input.to_lowercase()).await? {
        Some(w) => Ok(w.id.to_string()),
        None => Err(Error::field("workspace", &rule::UNKNOWN_WORKSPACE, &[("slug", &input)])),
    }
}

/// Names of the workspaces a page of events mentions; a deleted one's name
/// comes from its `workspace.deleted` event, marked "(deleted)".
pub async fn workspace_names(db: &Db, ctx: &Ctx, events: &[AuditEvent]) -> Result<HashMap<String, String>> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let mut ids: Vec<String> = events.iter().filter_map(|e| e.workspace_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut c = db.conn().await?;
    let mut names: HashMap<String, String> =
        steward_store::workspaces::names(&mut c, &org, &ids).await?.into_iter().collect();
    ids.retain(|id| !names.contains_key(id));
    for (id, name) in audit::deleted_workspace_names(&mut c, &org, &ids).await? {
        names.insert(id, format!("{name} (deleted)"));
    }
    Ok(names)
}

/// Deleted workspaces, newest first (id, "name (deleted)"), to filter by.
pub async fn deleted_workspaces(db: &Db, ctx: &Ctx, limit: i64) -> Result<Vec<(String, String)>> {
    let org = ctx.authorize(Permission::AuditRead)?;
    let mut c = db.conn().await?;
    let gone = audit::deleted_workspaces(&mut c, &org, limit).await?;
    Ok(gone.into_iter().map(|(id, name)| (id, format!("{name} (deleted)"))).collect())
}

/// Activity logs are kept this long by default (DATA-2).
pub const RETENTION_DAYS: i64 = 90;

/// Events one purge transaction removes at most: the organization's writes
/// wait while it runs (on SQLite, every write does), so a large backlog goes
/// in short steps (about 0.3 s each on SQLite).
const PURGE_CHUNK: i64 = 10_000;

/// Purges the events of the caller's organization older than `days`, in
/// steps; each step records what it removed (with the anchor) as a new event
/// in its own transaction. The operator (`steward audit purge`) or the daily
/// retention job (`jobs::audit_retention`) acts. Returns how many went.
pub async fn purge(db: &Db, ctx: &Ctx, days: i64) -> Result<i64> {
    let org = ctx.authorize(Permission::AuditPurge)?;
    let mut total = 0;
    loop {
        let purged = purge_step(db, ctx, &org, days).await?;
        total += purged;
        if purged < PURGE_CHUNK {
            return Ok(total);
        }
    }
}

async fn purge_step(db: &Db, ctx: &Ctx, org: &OrgScope, days: i64) -> Result<i64> {
    let cutoff = ctx.now.plus_seconds(-days * 86_400);
    let mut tx = db.write(org).await?;
    let (purged, anchor) = audit::purge_before(&mut tx, org, cutoff, ctx.now, PURGE_CHUNK).await?;
    if purged == 0 {
        tx.commit_unaudited().await?;
        return Ok(0);
    }
    let meta = serde_json::json!({ "purged": purged, "before": cutoff, "anchor_seq": anchor, "retention_days": days });
    let e = super::EventExt::metadata(ctx.event(org, "audit.purged", "organization", org.id()), meta);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(purged)
}

/// Checks the caller's organization's chain: the number of events verified,
/// or the first break.
pub async fn verify(db: &Db, ctx: &Ctx) -> Result<std::result::Result<i64, audit::Break>> {
    let org = ctx.authorize(Permission::AuditPurge)?;
    let mut c = db.conn().await?;
    Ok(audit::verify(&mut c, &org).await?)
}
