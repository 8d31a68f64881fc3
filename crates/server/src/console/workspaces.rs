//! Settings → Organization → Workspaces: the table, create and edit, the
//! lifecycle actions with their confirmations, and a workspace's page.

use std::collections::HashMap;
use steward_core::permissions::Permission;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use steward_core::ids::{UserId, WorkspaceId};
use steward_core::workspaces::Lifecycle;
use steward_store::workspaces::Workspace;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, notice_text, see_other, urlencode};
use super::{dialogs, error_page, field_errors, format, workspace_page};
use crate::services::workspaces::{self, CreateWorkspace, ListParams, SetMember, WorkspacePatch};
use crate::state::AppState;

const BASE: &str = "/settings/organization/workspaces";
const ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route("/settings/organization/workspaces/new", get(new_form))
        .route("/settings/organization/workspaces/{id}", get(workspace_page::show))
        .route("/settings/organization/workspaces/{id}/edit", get(edit_form).post(edit))
        .route("/settings/organization/workspaces/{id}/{action}", post(lifecycle))
        .route("/settings/organization/workspaces/{id}/members", post(add_member))
        .route("/settings/organization/workspaces/{id}/members/{user}", post(set_member))
        .route("/settings/organization/workspaces/{id}/members/{user}/remove", post(remove_member))
}

/// A workspace as a table row or page header shows it.
pub struct WsRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub reason: Option<String>,
    pub users: String,
    pub campaigns: String,
    pub active_campaigns: i64,
    pub created: String,
    pub created_utc: String,
}

pub fn row(w: &Workspace, tz: &str, active_campaigns: i64) -> WsRow {
    let (created, created_utc) = format::date(w.created_at, tz);
    WsRow {
        id: w.id.to_string(),
        name: w.name.clone(),
        slug: w.slug.clone(),
        status: w.status.as_str(),
        status_label: format::status(w.status.as_str()),
        reason: w.status_reason.clone(),
        users: format::int(w.member_count),
        campaigns: format::int(w.campaign_count),
        active_campaigns,
        created,
        created_utc,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workspaces.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<WsRow>,
    archived_view: bool,
    filtered: bool,
    q: String,
    status: String,
    sort: String,
    statuses: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, &'static str)>,
    range_text: String,
    page_start: i64,
    base_query: String,
    next_query: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    start: Option<i64>,
    notice: Option<String>,
}

async fn list(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<ListQuery>) -> Response {
    if !session.can(Permission::WorkspacesRead) {
        return ask_admin(&s, &session).await;
    }
    let status = q.status.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "current".into());
    let sort = q.sort.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "name".into());
    let params = ListParams {
        status: (status != "current").then(|| status.clone()),
        q: q.q.clone(),
        sort: Some(sort.clone()),
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let mut total = 0;
    let (rows, next, error) = match workspaces::list_counted(&s.db, &session.ctx(), &params, Some(&mut total)).await {
        Ok((rows, next)) => (rows, next, None),
        Err(e) => (Vec::new(), None, Some(super::refusals::sentence(&e))),
    };
    let active = active_counts(&s, &session, &rows).await;
    let start = q.start.unwrap_or(1).max(1);
    let base_query = format!(
        "status={}&q={}&sort={}",
        urlencode(&status),
        urlencode(q.q.as_deref().unwrap_or("")),
        urlencode(&sort)
    );
    let end = start + rows.len() as i64 - 1;
    let rows: Vec<WsRow> =
        rows.iter().map(|w| row(w, &session.org.timezone, active.get(w.id.as_str()).copied().unwrap_or(0))).collect();
    ListPage {
        layout: layout(&s, &session, "Workspaces", "workspaces")
            .await
            .with_notice(notice_text(q.notice.as_deref()))
            .with_confirms(rows.iter().flat_map(dialogs::workspace)),
        rows,
        archived_view: status == "archived",
        filtered: q.q.as_deref().is_some_and(|v| !v.is_empty()) || !matches!(status.as_str(), "current" | "archived"),
        q: q.q.clone().unwrap_or_default(),
        status,
        sort,
        statuses: vec![
            ("current", "Active and suspended"),
            ("active", "Active"),
            ("suspended", "Suspended"),
            ("archived", "Archived"),
            ("all", "All"),
        ],
        sorts: vec![
            ("name", "Name"),
            ("-created_at", "Newest"),
            ("created_at", "Oldest"),
            ("-users", "Most users"),
            ("-campaigns", "Most campaigns"),
        ],
        range_text: if total == 0 {
            String::new()
        } else {
            format!("{}–{} of {}", format::int(start), format::int(end), format::int(total))
        },
        page_start: start,
        next_query: next.map(|c| format!("{base_query}&cursor={}&start={}", urlencode(&c), end + 1)),
        base_query,
        error,
    }
    .into_response()
}

async fn active_counts(s: &AppState, session: &ConsoleSession, rows: &[Workspace]) -> HashMap<String, i64> {
    let ids: Vec<WorkspaceId> = rows.iter().map(|w| w.id.clone()).collect();
    workspaces::active_campaign_counts(&s.db, &session.ctx(), &ids).await.unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WsForm {
    csrf_token: String,
    name: String,
    slug: String,
    description: String,
    timezone: String,
    default_language: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "workspace_form.html")]
struct FormPage {
    layout: Layout,
    creating: bool,
    action: String,
    cancel: String,
    form: WsForm,
    zones: &'static [&'static str],
    errors: HashMap<String, String>,
    error: Option<String>,
}

async fn new_form(State(s): State<AppState>, session: ConsoleSession) -> Response {
    if !session.can(Permission::WorkspacesWrite) {
        return ask_admin(&s, &session).await;
    }
    let form = WsForm { timezone: session.org.timezone.clone(), default_language: "en".into(), ..WsForm::default() };
    FormPage {
        layout: layout(&s, &session, "Create workspace", "workspaces").await,
        creating: true,
        action: BASE.into(),
        cancel: BASE.into(),
        form,
        zones: ZONES,
        errors: HashMap::new(),
        error: None,
    }
    .into_response()
}

fn optional(v: &str) -> Option<String> {
    Some(v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn form_error(
    s: &AppState,
    session: &ConsoleSession,
    creating: bool,
    action: String,
    form: WsForm,
    e: steward_core::Error,
) -> Response {
    let (errors, error) =
        if e.errors.is_empty() { (HashMap::new(), Some(e.detail.clone())) } else { (field_errors(&e), None) };
    let page = FormPage {
        layout: layout(s, session, if creating { "Create workspace" } else { "Edit workspace" }, "workspaces").await,
        creating,
        cancel: if creating { BASE.into() } else { action.trim_end_matches("/edit").to_owned() },
        action,
        form,
        zones: ZONES,
        errors,
        error,
    };
    (super::refusals::status(Some(&e)), page).into_response()
}

async fn create(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<WsForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let input = CreateWorkspace {
        name: form.name.clone(),
        slug: optional(&form.slug),
        description: optional(&form.description),
        timezone: optional(&form.timezone),
        default_language: optional(&form.default_language),
    };
    match workspaces::create(&s.db, &session.ctx(), input).await {
        Ok(w) => see_other(&format!("{BASE}/{}", w.id), "workspace_created"),
        Err(e) if e.status < 500 => form_error(&s, &session, true, BASE.into(), form, e).await,
        Err(e) => error_page(&e),
    }
}

pub(super) fn parse_ws(id: &str) -> Result<WorkspaceId, Response> {
    id.parse().map_err(|_| super::not_found_page())
}

async fn edit_form(State(s): State<AppState>, session: ConsoleSession, Path(id): Path<String>) -> Response {
    let id = match parse_ws(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match workspaces::get(&s.db, &session.ctx(), &id).await {
        Ok(w) => FormPage {
            layout: layout(&s, &session, "Edit workspace", "workspaces").await,
            creating: false,
            action: format!("{BASE}/{id}/edit"),
            cancel: format!("{BASE}/{id}"),
            form: WsForm {
                csrf_token: String::new(),
                name: w.name,
                slug: w.slug,
                description: w.description.unwrap_or_default(),
                timezone: w.timezone,
                default_language: w.default_language,
            },
            zones: ZONES,
            errors: HashMap::new(),
            error: None,
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn edit(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<WsForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let id = match parse_ws(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let patch = WorkspacePatch {
        name: Some(form.name.clone()),
        slug: Some(form.slug.clone()),
        description: Some(optional(&form.description)),
        timezone: Some(form.timezone.clone()),
        default_language: Some(form.default_language.clone()),
    };
    match workspaces::update(&s.db, &session.ctx(), &id, patch).await {
        Ok(_) => see_other(&format!("{BASE}/{id}"), "workspace_saved"),
        Err(e) if e.status < 500 && e.status != 404 => {
            form_error(&s, &session, false, format!("{BASE}/{id}/edit"), form, e).await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionForm {
    csrf_token: String,
    reason: String,
    confirm: String,
}

async fn lifecycle(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let id = match parse_ws(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let ctx = session.ctx();
    let (result, notice) = match action.as_str() {
        "suspend" => (
            workspaces::transition(&s.db, &ctx, &id, Lifecycle::Suspend, optional(&form.reason)).await.map(|_| ()),
            "workspace_suspended",
        ),
        "reactivate" => (
            workspaces::transition(&s.db, &ctx, &id, Lifecycle::Reactivate, None).await.map(|_| ()),
            "workspace_reactivated",
        ),
        "archive" => (
            workspaces::transition(&s.db, &ctx, &id, Lifecycle::Archive, optional(&form.reason)).await.map(|_| ()),
            "workspace_archived",
        ),
        "restore" => {
            (workspaces::transition(&s.db, &ctx, &id, Lifecycle::Restore, None).await.map(|_| ()), "workspace_restored")
        }
        "delete" => {
            let r = workspaces::delete(&s.db, &ctx, &id, Some(form.confirm.trim()), &s.files).await.map(|_| ());
            match r {
                Ok(()) => return see_other(BASE, "workspace_deleted"),
                Err(e) => (Err(e), ""),
            }
        }
        _ => return super::not_found_page(),
    };
    match result {
        Ok(()) => see_other(&format!("{BASE}/{id}"), notice),
        Err(e) if let Some(r) = super::confirm::reauth_redirect(&e, &format!("{BASE}/{id}")) => r,
        Err(e) if e.status < 500 && e.status != 404 => {
            workspace_page::page(
                &s,
                &session,
                &id,
                Some(super::refusals::sentence(&e)),
                StatusCode::from_u16(e.status).ok(),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberForm {
    csrf_token: String,
    user_id: String,
    role: String,
}

async fn add_member(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Response {
    let user = form.user_id.clone();
    set_member(State(s), session, Path((id, user)), Form(form)).await
}

async fn set_member(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path((id, user)): Path<(String, String)>,
    Form(form): Form<MemberForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let (Ok(id), Ok(user)) = (id.parse::<WorkspaceId>(), user.parse::<UserId>()) else {
        return super::not_found_page();
    };
    let done = workspaces::set_member(&s.db, &session.ctx(), &id, &user, SetMember { role: form.role }).await;
    member_answer(&s, &session, &id, done.map(|_| ()), "member_saved").await
}

/// How a change to a member ends: back to the workspace with `notice`, or
/// the workspace page again with the problem's sentence.
async fn member_answer(
    s: &AppState,
    session: &ConsoleSession,
    id: &WorkspaceId,
    done: steward_core::Result<()>,
    notice: &str,
) -> Response {
    match done {
        Ok(()) => see_other(&format!("{BASE}/{id}"), notice),
        Err(e) if e.status < 500 => {
            workspace_page::page(
                s,
                session,
                id,
                Some(super::refusals::sentence(&e)),
                StatusCode::from_u16(e.status).ok(),
            )
            .await
        }
        Err(e) => error_page(&e),
    }
}

async fn remove_member(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path((id, user)): Path<(String, String)>,
    Form(form): Form<MemberForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let (Ok(id), Ok(user)) = (id.parse::<WorkspaceId>(), user.parse::<UserId>()) else {
        return super::not_found_page();
    };
    let done = workspaces::remove_member(&s.db, &session.ctx(), &id, &user).await;
    member_answer(&s, &session, &id, done, "member_removed").await
}
