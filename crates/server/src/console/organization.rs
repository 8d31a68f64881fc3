//! Settings → Organization: the dashboard and the details card (ORG-1…ORG-5).

use std::collections::HashMap;
use steward_core::permissions::Permission;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use steward_store::organizations::Organization;

use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{NoticeQuery, error_page, field_errors, format};
use crate::services::dashboard;
use crate::services::organizations::{self, OrganizationPatch};
use crate::state::AppState;

/// Storage every organization may use until plans set their own quota.
pub const DEFAULT_STORAGE_QUOTA_BYTES: i64 = 10_000_000_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/organization", get(show_dashboard))
        .route("/settings/organization/details", get(show_details).post(save_details))
}

#[derive(Template, WebTemplate)]
#[template(path = "ask_admin.html")]
struct AskAdminPage {
    layout: Layout,
    admins: Vec<(String, String)>,
}

/// ORG-1: anyone else gets a page that says whom to ask.
pub async fn ask_admin(s: &AppState, session: &ConsoleSession) -> Response {
    let admins = match crate::services::people::super_admins(&s.db, &session.ctx()).await {
        Ok(users) => users.into_iter().map(|u| (u.name, u.email)).collect(),
        Err(e) => return error_page(&e),
    };
    (StatusCode::FORBIDDEN, AskAdminPage { layout: session.layout("Ask a Super Admin", "none"), admins })
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "org_dashboard.html")]
struct DashboardPage {
    layout: Layout,
    timezone: String,
    total_workspaces: String,
    total_users: String,
    active_campaigns: String,
    campaigns_month: String,
    content_week: String,
    connections: String,
    storage: String,
    quota: String,
    storage_percent: i64,
    credit_balance: String,
}

async fn show_dashboard(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<NoticeQuery>) -> Response {
    if !session.can(Permission::OrganizationRead) {
        return ask_admin(&s, &session).await;
    }
    let (f, timezone) = match dashboard::figures(&s.db, &session.ctx()).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let percent = (f.storage_bytes_used * 100 / DEFAULT_STORAGE_QUOTA_BYTES).clamp(0, 100);
    let credit_balance = match crate::services::credits::balance(&s.db, &session.ctx()).await {
        Ok(b) => format::int(b),
        Err(e) => return error_page(&e),
    };
    DashboardPage {
        layout: layout(&s, &session, "Dashboard", "dashboard").await.with_notice(notice_text(q.notice.as_deref())),
        timezone,
        total_workspaces: format::int(f.total_workspaces),
        total_users: format::int(f.total_users),
        active_campaigns: format::int(f.active_campaigns),
        campaigns_month: format::int(f.campaigns_created_this_month),
        content_week: format::int(f.content_published_this_week),
        connections: format::int(f.active_platform_connections),
        storage: format::bytes(f.storage_bytes_used),
        quota: format::bytes(DEFAULT_STORAGE_QUOTA_BYTES),
        storage_percent: percent,
        credit_balance,
    }
    .into_response()
}

/// The frame, knowing whether the organization has a logo.
pub async fn layout(s: &AppState, session: &ConsoleSession, title: &str, tab: &'static str) -> Layout {
    let mut l = session.layout(title, tab);
    l.has_logo = super::logo::exists(s, session).await;
    if session.can(Permission::CreditsRead) {
        l.credit_alert = crate::services::credits::fired_alert(&s.db, &session.ctx()).await.ok().flatten();
    }
    l
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DetailsForm {
    csrf_token: String,
    name: String,
    slug: String,
    description: String,
    website: String,
    timezone: String,
}

impl DetailsForm {
    fn from_org(o: &Organization) -> Self {
        Self {
            csrf_token: String::new(),
            name: o.name.clone(),
            slug: o.slug.clone(),
            description: o.description.clone().unwrap_or_default(),
            website: o.website.clone().unwrap_or_default(),
            timezone: o.timezone.clone(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "org_details.html")]
struct DetailsPage {
    layout: Layout,
    org: Organization,
    editing: bool,
    form: DetailsForm,
    errors: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DetailsQuery {
    edit: Option<String>,
    notice: Option<String>,
}

async fn show_details(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<DetailsQuery>) -> Response {
    if !session.can(Permission::OrganizationRead) {
        return ask_admin(&s, &session).await;
    }
    let org = session.org.clone();
    DetailsPage {
        layout: layout(&s, &session, "Details", "details").await.with_notice(notice_text(q.notice.as_deref())),
        form: DetailsForm::from_org(&org),
        org,
        editing: q.edit.is_some(),
        errors: HashMap::new(),
    }
    .into_response()
}

async fn save_details(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<DetailsForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let optional = |v: &str| Some(Some(v.to_owned()).filter(|v| !v.trim().is_empty()));
    let patch = OrganizationPatch {
        name: Some(form.name.clone()),
        slug: Some(form.slug.clone()),
        description: optional(&form.description),
        website: optional(&form.website),
        timezone: Some(form.timezone.clone()),
    };
    match organizations::update(&s.db, &session.ctx(), patch).await {
        Ok(_) => see_other("/settings/organization/details", "details_saved"),
        Err(e) if e.status == 422 || e.status == 409 => {
            let page = DetailsPage {
                layout: layout(&s, &session, "Details", "details").await,
                org: session.org.clone(),
                editing: true,
                form,
                errors: field_errors(&e),
            };
            (super::refusals::status(Some(&e)), page).into_response()
        }
        Err(e) => error_page(&e),
    }
}
