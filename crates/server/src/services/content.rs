//! Content items (DOMAIN-2): draft, scheduled, published; deletion is soft.

use serde::Deserialize;
use steward_core::audit::Changes;
use steward_core::ids::{CampaignId, ContentId, WorkspaceId};
use steward_core::messages::{problem, rule};
use steward_core::pagination::{self, Page};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_core::validate::Fields;
use steward_core::workspaces::{self as rules, ContentStatus};
use steward_core::{Error, Result};
use steward_store::content::{self, Content};
use steward_store::{Conn, Db, WorkspaceScope, audit, campaigns};

use super::{Ctx, EventExt};

const TARGET: &str = "content";
const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 10_000;

pub async fn list(db: &Db, ctx: &Ctx, ws: &WorkspaceId, page: &Page) -> Result<(Vec<Content>, Option<String>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    let rows = content::list(&mut c, &w.scope, page.after.as_deref(), page.fetch_limit()).await?;
    Ok(pagination::finish(rows, page, |x| x.id.to_string()))
}

pub async fn get(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &ContentId) -> Result<Content> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, ws, Permission::WorkspacesRead).await?;
    content::get(&mut c, &w.scope, id).await?.ok_or_else(|| Error::not_found("content item"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContent {
    pub title: String,
    pub body: Option<String>,
    /// `draft` (default), `scheduled` (needs `scheduled_at` in the future) or `published`.
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
    pub scheduled_at: Option<Timestamp>,
    /// A campaign of the same workspace.
    pub campaign_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContentPatch {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    pub body: Option<Option<String>>,
    #[schema(value_type = Option<String>)]
    pub status: Option<String>,
    pub scheduled_at: Option<Timestamp>,
}

fn check_text(f: &mut Fields, title: Option<&str>, body: Option<&str>) -> Option<String> {
    let title = title.map(str::trim);
    if let Some(t) = title {
        if t.is_empty() {
            f.push("title", &rule::REQUIRED, &[]);
        } else if t.chars().count() > TITLE_MAX {
            f.push("title", &rule::TOO_LONG, &[("max", &TITLE_MAX)]);
        } else if t.chars().any(char::is_control) {
            f.push("title", &rule::CONTROL_CHARACTERS, &[("where_", &"")]);
        }
    }
    if body.is_some_and(|b| b.chars().count() > BODY_MAX) {
        f.push("body", &rule::TOO_LONG, &[("max", &BODY_MAX)]);
    } else if body.is_some_and(|b| b.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))) {
        f.push("body", &rule::CONTROL_CHARACTERS, &[("where_", &"")]);
    }
    title.map(str::to_owned)
}

/// Sets status and its timestamps, refusing what the rules don't allow.
fn apply_status(x: &mut Content, next: ContentStatus, scheduled_at: Option<Timestamp>, now: Timestamp) -> Result<()> {
    if next == ContentStatus::Scheduled {
        match scheduled_at.or(x.scheduled_at) {
            Some(t) if t > now => x.scheduled_at = Some(t),
            _ => {
                return Err(Error::field("scheduled_at", &rule::NOT_IN_FUTURE, &[]));
            }
        }
    }
    if next == ContentStatus::Published {
        x.published_at = Some(now);
    }
    if next == ContentStatus::Draft {
        x.scheduled_at = None;
    }
    x.status = next;
    Ok(())
}

async fn check_campaign(c: &mut Conn, ws: &WorkspaceScope, raw: Option<&str>) -> Result<Option<CampaignId>> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = || Error::field("campaign_id", &rule::NOT_FOUND, &[("what", &"a campaign of this workspace")]);
    let id: CampaignId = raw.parse().map_err(|_| invalid())?;
    campaigns::get(c, ws, &id).await?.ok_or_else(invalid)?;
    Ok(Some(id))
}

pub async fn create(db: &Db, ctx: &Ctx, ws: &WorkspaceId, input: CreateContent) -> Result<Content> {
    let mut f = Fields::new();
    let title = check_text(&mut f, Some(&input.title), input.body.as_deref());
    let status = match input.status.as_deref() {
        None => Some(ContentStatus::Draft),
        Some(s) => f.check(ContentStatus::parse_field("status", s)),
    };
    f.finish()?;
    let (Some(title), Some(status)) = (title, status) else { return Err(Error::internal()) };

    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::ContentWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let campaign_id = check_campaign(&mut tx, &w.scope, input.campaign_id.as_deref()).await?;
    let mut x = Content {
        id: ContentId::new(),
        org_id: w.scope.org_id().clone(),
        workspace_id: w.scope.id().clone(),
        campaign_id,
        title,
        body: input.body.filter(|b| !b.trim().is_empty()),
        status: ContentStatus::Draft,
        scheduled_at: None,
        published_at: None,
        deleted_at: None,
        created_by: ctx.principal.actor().id,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    apply_status(&mut x, status, input.scheduled_at, ctx.now)?;
    content::insert(&mut tx, &w.scope, &x).await?;
    let mut changes = Changes::new();
    changes.created("title", &x.title).created("status", &x.status);
    let e = ctx.ws_event(&w.scope, "content.created", TARGET, &x.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(x)
}

pub async fn update(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &ContentId, patch: ContentPatch) -> Result<Content> {
    let mut f = Fields::new();
    let title = check_text(&mut f, patch.title.as_deref(), patch.body.as_ref().and_then(|b| b.as_deref()));
    let status = patch.status.as_deref().and_then(|s| f.check(ContentStatus::parse_field("status", s)));
    f.finish()?;

    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::ContentWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let before = content::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("content item"))?;
    let mut after = before.clone();
    if let Some(t) = title {
        after.title = t;
    }
    if let Some(b) = patch.body {
        after.body = b.filter(|b| !b.trim().is_empty());
    }
    if let Some(s) = status.filter(|s| *s != before.status) {
        if !before.status.can_become(s) {
            let change = format!("become {s}");
            return Err(Error::conflict(
                &problem::INVALID_STATUS_TRANSITION,
                &[("what", &"content item"), ("from", &before.status), ("change", &change)],
            )
            .with_extension("current_status", before.status.as_str()));
        }
        apply_status(&mut after, s, patch.scheduled_at, ctx.now)?;
    } else if let Some(t) = patch.scheduled_at {
        if after.status != ContentStatus::Scheduled {
            return Err(Error::field("scheduled_at", &rule::NOT_SCHEDULED, &[]));
        }
        if t <= ctx.now {
            return Err(Error::field("scheduled_at", &rule::NOT_IN_FUTURE, &[]));
        }
        after.scheduled_at = Some(t);
    }
    let mut changes = Changes::new();
    changes
        .field("title", &before.title, &after.title)
        .field("body", &before.body, &after.body)
        .field("status", &before.status, &after.status)
        .field("scheduled_at", &before.scheduled_at, &after.scheduled_at);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    content::update(&mut tx, &w.scope, &after).await?;
    let e = ctx.ws_event(&w.scope, "content.updated", TARGET, &after.id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(after)
}

/// Soft delete: kept (and purged by the retention policy later).
pub async fn delete(db: &Db, ctx: &Ctx, ws: &WorkspaceId, id: &ContentId) -> Result<()> {
    let mut tx = db.write(&ctx.org()?).await?;
    let w = ctx.workspace(&mut tx, ws, Permission::ContentWrite).await?;
    rules::require_active_for_changes(w.workspace.status, w.workspace.status_reason.as_deref())?;
    let mut x = content::get(&mut tx, &w.scope, id).await?.ok_or_else(|| Error::not_found("content item"))?;
    x.deleted_at = Some(ctx.now);
    x.updated_at = ctx.now;
    content::update(&mut tx, &w.scope, &x).await?;
    let e = ctx.ws_event(&w.scope, "content.deleted", TARGET, &x.id).metadata(serde_json::json!({ "title": x.title }));
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(())
}
