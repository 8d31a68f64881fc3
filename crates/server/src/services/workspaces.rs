//! Workspaces and their lifecycle (WS-1…WS-7): list, create, edit, suspend,
//! reactivate, archive, restore, delete; members and their roles.

use serde::Deserialize;
use serde_json::json;
use steward_core::audit::Changes;
use steward_core::authz::{self, Resource};
use steward_core::ids::{UserId, WorkspaceId};
use steward_core::messages::{problem, rule};
use steward_core::pagination::{decode_cursor, encode_cursor, invalid_cursor};
use steward_core::people::UserStatus;
use steward_core::permissions::Permission;
use steward_core::validate::{self, Fields};
use steward_core::workspaces::{
    self as rules, Lifecycle, PausedBy, SUSPEND_REASON_MAX, WorkspaceRole, WorkspaceStatus,
};
use steward_core::{Error, FieldError, Result};
use steward_store::workspaces::{self as store, ListFilter, Member, SortKey, SortValue, Workspace};
use steward_store::{Conn, Db, OrgScope, WorkspaceScope, audit, campaigns, organizations, users};

use super::{Ctx, EventExt};

pub const TARGET: &str = "workspace";

/// An event about a workspace, filed under it.
fn ws_event(ctx: &Ctx, action: &'static str, ws: &WorkspaceScope) -> steward_store::audit::NewEvent {
    ctx.ws_event(ws, action, TARGET, ws.id())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `active`, `suspended`, `archived`, or `all`. Default: active and suspended.
    pub status: Option<String>,
    /// Search in names (case-insensitive).
    pub q: Option<String>,
    /// `name` (default), `created_at`, `users` or `campaigns`; prefix `-` for descending.
    pub sort: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn list(db: &Db, ctx: &Ctx, p: &ListParams) -> Result<(Vec<Workspace>, Option<String>)> {
    list_counted(db, ctx, p, None).await
}

/// The list, and (when asked) how many workspaces match in all.
pub async fn list_counted(
    db: &Db,
    ctx: &Ctx,
    p: &ListParams,
    total: Option<&mut i64>,
) -> Result<(Vec<Workspace>, Option<String>)> {
    // Members see the workspaces they belong to; organization-wide readers, all.
    let org = ctx.org()?;
    let org_wide = authz::can(&ctx.principal, Permission::WorkspacesRead, Resource::Organization);
    let mut fields = Fields::new();
    let statuses = match p.status.as_deref() {
        None => vec![WorkspaceStatus::Active, WorkspaceStatus::Suspended],
        Some("all") => WorkspaceStatus::ALL.to_vec(),
        Some(s) => fields.check(WorkspaceStatus::parse_field("status", s).map(|s| vec![s])).unwrap_or_default(),
    };
    let (descending, sort_name) = match p.sort.as_deref() {
        Some(s) if s.starts_with('-') => (true, &s[1..]),
        Some(s) => (false, s),
        None => (false, "name"),
    };
    let sort = match sort_name {
        "name" => SortKey::Name,
        "created_at" => SortKey::CreatedAt,
        "users" => SortKey::Members,
        "campaigns" => SortKey::Campaigns,
        _ => {
            fields.push(
                "sort",
                &rule::NOT_ONE_OF,
                &[("allowed", &"name, created_at, users, campaigns (prefix - for descending)")],
            );
            SortKey::Name
        }
    };
    let page = fields.check(steward_core::pagination::Page::parse(p.limit, None));
    let query = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    if query.as_ref().is_some_and(|q| q.chars().count() > 100) {
        fields.push("q", &rule::TOO_LONG, &[("max", &100)]);
    }
    fields.finish()?;
    let after = p.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| parse_cursor(c, sort)).transpose()?;
    let limit = page.map(|p| p.limit).unwrap_or(50);

    let member = if org_wide {
        None
    } else {
        match ctx.principal.user_id() {
            Some(user_id) => Some(user_id.clone()),
            None => return Err(ctx.authorize(Permission::WorkspacesRead).err().unwrap_or_else(Error::internal)),
        }
    };
    let statuses = if member.is_some() {
        statuses.into_iter().filter(|s| *s != WorkspaceStatus::Archived).collect()
    } else {
        statuses
    };
    let filter = ListFilter { statuses, query, member, sort, descending, after, limit: i64::from(limit) + 1 };
    let mut c = db.conn().await?;
    let mut rows = if filter.statuses.is_empty() { Vec::new() } else { store::list(&mut c, &org, &filter).await? };
    if let Some(total) = total {
        *total = if filter.statuses.is_empty() { 0 } else { store::count(&mut c, &org, &filter).await? };
    }
    let next = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|w| make_cursor(w, sort))
    } else {
        None
    };
    Ok((rows, next))
}

fn make_cursor(w: &Workspace, sort: SortKey) -> String {
    let value = match sort {
        SortKey::Name => store::sort_name(&w.name),
        SortKey::CreatedAt => w.created_at.millis().to_string(),
        SortKey::Members => w.member_count.to_string(),
        SortKey::Campaigns => w.campaign_count.to_string(),
    };
    // The id goes first: it never contains the separator; a name may.
    encode_cursor(&format!("{}|{}", w.id, value))
}

fn parse_cursor(cursor: &str, sort: SortKey) -> Result<(SortValue, String)> {
    let bad = || invalid_cursor(" for this sort order");
    let raw = decode_cursor(cursor)?;
    let (id, value) = raw.split_once('|').ok_or_else(bad)?;
    id.parse::<WorkspaceId>().map_err(|_| bad())?;
    let value = if sort.is_text() {
        SortValue::Text(value.to_owned())
    } else {
        SortValue::Int(value.parse().map_err(|_| bad())?)
    };
    Ok((value, id.to_owned()))
}

pub async fn get(db: &Db, ctx: &Ctx, id: &WorkspaceId) -> Result<Workspace> {
    let mut c = db.conn().await?;
    Ok(ctx.workspace(&mut c, id, Permission::WorkspacesRead).await?.workspace)
}

/// A workspace with the caller's role in it (members only).
pub async fn get_with_role(db: &Db, ctx: &Ctx, id: &WorkspaceId) -> Result<(Workspace, Option<WorkspaceRole>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, id, Permission::WorkspacesRead).await?;
    Ok((w.workspace, w.role))
}

/// The workspaces the caller is a member of (never archived): the console's
/// switcher. Super Admins too see only their own here.
pub async fn mine(db: &Db, ctx: &Ctx) -> Result<Vec<Workspace>> {
    let org = ctx.org()?;
    let Some(user) = ctx.principal.user_id() else { return Ok(Vec::new()) };
    let mut filter = ListFilter {
        statuses: vec![WorkspaceStatus::Active, WorkspaceStatus::Suspended],
        query: None,
        member: Some(user.clone()),
        sort: SortKey::Name,
        descending: false,
        after: None,
        limit: 200,
    };
    let mut c = db.conn().await?;
    let mut all = Vec::new();
    loop {
        let page = store::list(&mut c, &org, &filter).await?;
        let full = page.len() as i64 == filter.limit;
        filter.after = page.last().map(|w| (SortValue::Text(store::sort_name(&w.name)), w.id.to_string()));
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// Active campaigns of each of these workspaces (the console's list).
pub async fn active_campaign_counts(
    db: &Db,
    ctx: &Ctx,
    ids: &[WorkspaceId],
) -> Result<std::collections::HashMap<String, i64>> {
    let org = ctx.authorize(Permission::WorkspacesRead)?;
    let mut c = db.conn().await?;
    Ok(campaigns::active_counts(&mut c, &org, ids).await?)
}

/// The name of a workspace the caller is a member of, whatever its status
/// (a suspended one's page names it).
pub async fn name_for_member(db: &Db, ctx: &Ctx, id: &WorkspaceId) -> Result<Option<String>> {
    let org = ctx.org()?;
    let Some(user) = ctx.principal.user_id() else { return Ok(None) };
    let mut c = db.conn().await?;
    let Some(ws) = store::get(&mut c, &org, id).await? else { return Ok(None) };
    let member = store::is_member(&mut c, &org, id, user).await?;
    Ok(member.then_some(ws.name))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspace {
    #[schema(max_length = 100)]
    pub name: String,
    /// Made from the name when absent (transliterated, lower-case, unique in the organization).
    pub slug: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// IANA time zone; defaults to the organization's.
    pub timezone: Option<String>,
    /// Language tag such as `en` or `pt-BR`; defaults to `en`.
    pub default_language: Option<String>,
}

pub async fn create(db: &Db, ctx: &Ctx, input: CreateWorkspace) -> Result<Workspace> {
    let org = ctx.authorize(Permission::WorkspacesWrite)?;
    let mut f = Fields::new();
    let name = f.check(validate::name("name", &input.name));
    let slug = input.slug.as_deref().and_then(|s| f.check(validate::slug("slug", s)));
    let description = f.check(validate::description("description", input.description.as_deref())).flatten();
    let timezone = input.timezone.as_deref().and_then(|t| f.check(rules::timezone("timezone", t)));
    let language = input.default_language.as_deref().map(|l| f.check(rules::language("default_language", l)));
    f.finish()?;
    let name = name.ok_or_else(Error::internal)?;

    let mut tx = db.write(&org).await?;
    let organization = organizations::get(&mut tx, &org).await?.ok_or_else(Error::internal)?;
    check_limit(&mut tx, &org, &organization).await?;
    let slug = match slug {
        Some(s) => {
            if store::slug_taken(&mut tx, &org, &s, None).await? {
                return Err(slug_taken(&s));
            }
            s
        }
        None => free_slug(&mut tx, &org, &validate::slugify(&name)).await?,
    };
    let ws = Workspace {
        id: WorkspaceId::new(),
        org_id: org.id().clone(),
        name,
        slug,
        description,
        timezone: timezone.unwrap_or_else(|| organization.timezone.clone()),
        default_language: language.flatten().unwrap_or_else(|| "en".into()),
        status: WorkspaceStatus::Active,
        status_reason: None,
        status_changed_at: None,
        restore_status: None,
        member_count: 0,
        campaign_count: 0,
        storage_bytes: 0,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    store::insert(&mut tx, &org, &ws)
        .await
        .map_err(|e| if e.is_unique_violation() { slug_taken(&ws.slug) } else { e.into() })?;
    let mut changes = Changes::new();
    changes
        .created("name", &ws.name)
        .created("slug", &ws.slug)
        .created("timezone", &ws.timezone)
        .created("default_language", &ws.default_language);
    let e = ctx.event(&org, "workspace.created", TARGET, &ws.id).changes(changes.into_value());
    let mut e = e;
    e.workspace_id = Some(ws.id.to_string());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(ws)
}

/// LIMIT-2: archived workspaces don't count.
async fn check_limit(c: &mut Conn, scope: &OrgScope, org: &steward_store::organizations::Organization) -> Result<()> {
    if let Some(limit) = org.workspace_limit
        && store::count_counted(c, scope).await? >= limit
    {
        return Err(
            Error::forbidden(&problem::WORKSPACE_LIMIT_REACHED, &[("limit", &limit)]).with_extension("limit", limit)
        );
    }
    Ok(())
}

/// `base`, or `base-2`, `base-3` … whichever is free in the organization.
async fn free_slug(c: &mut Conn, org: &OrgScope, base: &str) -> Result<String> {
    let taken = store::slugs_like(c, org, base).await?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_owned());
    }
    let stem: String = base.chars().take(validate::SLUG_MAX - 6).collect();
    let stem = stem.trim_end_matches('-');
    (2..100_000).map(|n| format!("{stem}-{n}")).find(|s| !taken.contains(s)).ok_or_else(Error::internal)
}

fn slug_taken(slug: &str) -> Error {
    Error::conflict(&problem::SLUG_TAKEN, &[("owner", &"workspace of this organization"), ("slug", &slug)])
        .with_field(FieldError::new("slug", &rule::TAKEN, &[("by", &"another workspace of this organization")]))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspacePatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(max_length = 1000, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub timezone: Option<String>,
    pub default_language: Option<String>,
}

pub async fn update(db: &Db, ctx: &Ctx, id: &WorkspaceId, patch: WorkspacePatch) -> Result<Workspace> {
    let mut f = Fields::new();
    let name = patch.name.as_deref().and_then(|n| f.check(validate::name("name", n)));
    let slug = patch.slug.as_deref().and_then(|s| f.check(validate::slug("slug", s)));
    let description = patch.description.as_ref().map(|d| f.check(validate::description("description", d.as_deref())));
    let timezone = patch.timezone.as_deref().and_then(|t| f.check(rules::timezone("timezone", t)));
    let language = patch.default_language.as_deref().and_then(|l| f.check(rules::language("default_language", l)));
    f.finish()?;

    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let w = ctx.workspace(&mut tx, id, Permission::WorkspacesWrite).await?;
    let before = w.workspace.clone();
    let mut after = before.clone();
    if let Some(v) = name {
        after.name = v;
    }
    if let Some(v) = slug {
        if v != before.slug && store::slug_taken(&mut tx, &org, &v, Some(id)).await? {
            return Err(slug_taken(&v));
        }
        after.slug = v;
    }
    if let Some(Some(v)) = description {
        after.description = v;
    }
    if let Some(v) = timezone {
        after.timezone = v;
    }
    if let Some(v) = language {
        after.default_language = v;
    }
    let mut changes = Changes::new();
    changes
        .field("name", &before.name, &after.name)
        .field("slug", &before.slug, &after.slug)
        .field("description", &before.description, &after.description)
        .field("timezone", &before.timezone, &after.timezone)
        .field("default_language", &before.default_language, &after.default_language);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = ctx.now;
    store::update(&mut tx, &w.scope, &after).await?;
    let done =
        audit::append(&mut tx, ws_event(ctx, "workspace.updated", &w.scope).changes(changes.into_value())).await?;
    tx.commit(done).await?;
    Ok(after)
}

/// The result of a lifecycle step, with the campaigns it paused or resumed.
#[derive(Debug)]
pub struct Transition {
    pub workspace: Workspace,
    pub campaigns_paused: u64,
    pub campaigns_resumed: u64,
}

/// Suspend, reactivate, archive or restore (WS-4, WS-5, WS-7).
pub async fn transition(
    db: &Db,
    ctx: &Ctx,
    id: &WorkspaceId,
    step: Lifecycle,
    reason: Option<String>,
) -> Result<Transition> {
    let org = ctx.authorize(Permission::WorkspacesLifecycle)?;
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        if r.chars().count() > SUSPEND_REASON_MAX {
            return Err(Error::field("reason", &rule::TOO_LONG, &[("max", &SUSPEND_REASON_MAX)]));
        }
        if r.chars().any(char::is_control) {
            return Err(Error::field("reason", &rule::CONTROL_CHARACTERS, &[("where_", &" (it must be one line)")]));
        }
    }
    let mut tx = db.write(&org).await?;
    let w = ctx.workspace(&mut tx, id, Permission::WorkspacesLifecycle).await?;
    let before = w.workspace.clone();
    let restore_to = before.restore_status.unwrap_or(WorkspaceStatus::Active);
    let next = step.apply(before.status, restore_to)?;
    let mut ws = before.clone();
    let (mut paused, mut resumed) = (0, 0);
    match step {
        Lifecycle::Suspend => {
            paused = campaigns::pause_active(&mut tx, &w.scope, PausedBy::Suspension, ctx.now).await?;
            ws.status_reason = reason.clone();
        }
        Lifecycle::Reactivate => {
            resumed = campaigns::resume_paused_by(&mut tx, &w.scope, PausedBy::Suspension, ctx.now).await?;
            ws.status_reason = None;
        }
        Lifecycle::Archive => {
            paused = campaigns::pause_active(&mut tx, &w.scope, PausedBy::Archive, ctx.now).await?;
            ws.restore_status = Some(before.status);
            // A suspended workspace keeps its suspension reason for when it returns.
            if before.status == WorkspaceStatus::Active {
                ws.status_reason = reason.clone();
            }
        }
        Lifecycle::Restore => {
            let organization = organizations::get(&mut tx, &org).await?.ok_or_else(Error::internal)?;
            check_limit(&mut tx, &org, &organization).await?;
            if next == WorkspaceStatus::Active {
                resumed = campaigns::resume_paused_by(&mut tx, &w.scope, PausedBy::Archive, ctx.now).await?;
                ws.status_reason = None;
            }
            ws.restore_status = None;
        }
    }
    ws.status = next;
    ws.status_changed_at = Some(ctx.now);
    ws.updated_at = ctx.now;
    store::update(&mut tx, &w.scope, &ws).await?;
    let action = match step {
        Lifecycle::Suspend => "workspace.suspended",
        Lifecycle::Reactivate => "workspace.reactivated",
        Lifecycle::Archive => "workspace.archived",
        Lifecycle::Restore => "workspace.restored",
    };
    let mut changes = Changes::new();
    changes.field("status", &before.status, &ws.status);
    let metadata = json!({ "reason": reason, "campaigns_paused": paused, "campaigns_resumed": resumed });
    let e = ws_event(ctx, action, &w.scope).changes(changes.into_value()).metadata(metadata);
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(Transition { workspace: ws, campaigns_paused: paused, campaigns_resumed: resumed })
}

/// What a deletion removed, for the caller and the audit trail.
#[derive(Debug)]
pub struct Deleted {
    pub workspace: Workspace,
}

/// WS-6: only with the slug typed as confirmation. Everything the workspace
/// holds goes in one transaction; its files after the commit.
pub async fn delete(
    db: &Db,
    ctx: &Ctx,
    id: &WorkspaceId,
    confirm: Option<&str>,
    files: &crate::files::Files,
) -> Result<Deleted> {
    let org = ctx.authorize(Permission::WorkspacesLifecycle)?;
    let mut tx = db.write(&org).await?;
    let w = ctx.workspace(&mut tx, id, Permission::WorkspacesLifecycle).await?;
    let ws = w.workspace.clone();
    super::sessions::require_recent_auth(&mut tx, ctx).await?;
    match confirm {
        None | Some("") => {
            return Err(Error::new(422, &problem::CONFIRMATION_REQUIRED, &[("slug", &ws.slug)]));
        }
        Some(c) if c != ws.slug => {
            return Err(Error::field("confirm", &rule::MISMATCH, &[("expected", &ws.slug)]));
        }
        Some(_) => {}
    }
    steward_store::activity::forget_workspace(&mut tx, &w.scope).await?;
    store::delete(&mut tx, &w.scope).await?;
    let metadata = json!({
        "name": ws.name, "slug": ws.slug, "status": ws.status,
        "members": ws.member_count, "campaigns": ws.campaign_count, "storage_bytes": ws.storage_bytes,
    });
    let done = audit::append(&mut tx, ws_event(ctx, "workspace.deleted", &w.scope).metadata(metadata)).await?;
    tx.commit(done).await?;
    let prefix = super::media::workspace_prefix(&w.scope);
    if let Err(e) = files.delete_prefix(&prefix).await {
        tracing::warn!(error = %e, prefix, "could not remove a deleted workspace's files");
    }
    Ok(Deleted { workspace: ws })
}

// ---- members ----

pub async fn members(
    db: &Db,
    ctx: &Ctx,
    id: &WorkspaceId,
    page: &steward_core::pagination::Page,
) -> Result<(Vec<Member>, Option<String>)> {
    let mut c = db.conn().await?;
    let w = ctx.workspace(&mut c, id, Permission::WorkspacesRead).await?;
    let rows = store::members(&mut c, &w.scope, page.after.as_deref(), page.fetch_limit()).await?;
    Ok(steward_core::pagination::finish(rows, page, |m| m.user_id.to_string()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    /// `admin`, `editor` or `viewer`.
    #[schema(value_type = String, example = "editor")]
    pub role: String,
}

/// Adds someone of the organization to a workspace, or changes their role.
pub async fn set_member(
    db: &Db,
    ctx: &Ctx,
    id: &WorkspaceId,
    user_id: &UserId,
    input: SetMember,
) -> Result<(Member, bool)> {
    let role = WorkspaceRole::parse_field("role", &input.role)?;
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let w = ctx.workspace(&mut tx, id, Permission::WorkspacesWrite).await?;
    let ws = w.workspace.clone();
    let user = users::get(&mut tx, &org, user_id).await?.ok_or_else(|| {
        Error::not_found("user").with_field(FieldError::new(
            "user_id",
            &rule::NOT_FOUND,
            &[("what", &"a person of this organization")],
        ))
    })?;
    if user.status == UserStatus::Deactivated {
        return Err(Error::conflict(&problem::PERSON_INACTIVE, &[("email", &user.email)]));
    }
    let previous = store::set_member(&mut tx, &w.scope, user_id, role, ctx.now).await?;
    if previous == Some(role) {
        return Ok((member_of(&ws, &user, role, ctx), false));
    }
    let action = if previous.is_some() { "workspace.member_role_changed" } else { "workspace.member_added" };
    let mut changes = Changes::new();
    changes.field("role", &previous, &Some(role));
    let e = ctx.ws_event(&w.scope, action, steward_core::audit::target::USER, user_id).changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok((member_of(&ws, &user, role, ctx), previous.is_none()))
}

fn member_of(ws: &Workspace, user: &steward_store::users::User, role: WorkspaceRole, ctx: &Ctx) -> Member {
    Member {
        workspace_id: ws.id.clone(),
        user_id: user.id.clone(),
        role,
        email: user.email.clone(),
        name: user.name.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
    }
}

pub async fn remove_member(db: &Db, ctx: &Ctx, id: &WorkspaceId, user_id: &UserId) -> Result<()> {
    let org = ctx.org()?;
    let mut tx = db.write(&org).await?;
    let w = ctx.workspace(&mut tx, id, Permission::WorkspacesWrite).await?;
    let previous = store::role_of(&mut tx, &w.scope, user_id).await?.ok_or_else(|| Error::not_found("member"))?;
    store::remove_member(&mut tx, &w.scope, user_id).await?;
    let mut changes = Changes::new();
    changes.field("role", &Some(previous), &None::<WorkspaceRole>);
    let e = ctx
        .ws_event(&w.scope, "workspace.member_removed", steward_core::audit::target::USER, user_id)
        .changes(changes.into_value());
    let done = audit::append(&mut tx, e).await?;
    tx.commit(done).await?;
    Ok(())
}
