//! Settings → Organization → People: invite (with workspaces), change roles,
//! deactivate and reactivate, resend invitations.

use std::collections::HashMap;
use steward_core::permissions::Permission;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use steward_core::ids::{UserId, WorkspaceId};

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{dialogs, error_page, field_errors, format};
use crate::services::people::{self, InviteUser, Invited, UserPatch};
use crate::services::workspaces::{self, ListParams, SetMember};
use crate::state::AppState;

const BASE: &str = "/settings/organization/people";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(invite))
        .route("/settings/organization/people/{id}/role", post(change_role))
        .route("/settings/organization/people/{id}/status", post(change_status))
        .route("/settings/organization/people/{id}/resend", post(resend))
        .route("/settings/organization/people/{id}/sign-out", post(sign_out))
        .route("/settings/organization/people/{id}/reset-2fa", post(reset_two_factor))
}

struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    role_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    last_login: String,
    two_factor: bool,
}

impl PersonRow {
    fn confirms(&self) -> Vec<dialogs::Confirm> {
        dialogs::person(&dialogs::Person {
            id: &self.id,
            name: &self.name,
            email: &self.email,
            role: self.role,
            status: self.status,
            two_factor: self.two_factor,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct InviteForm {
    email: String,
    name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "people.html")]
struct PeoplePage {
    layout: Layout,
    people: Vec<PersonRow>,
    workspaces: Vec<(String, String)>,
    form: InviteForm,
    errors: HashMap<String, String>,
    error: Option<String>,
    invite_url: Option<String>,
    invite_email: String,
    invite_expires: String,
}

struct Extra {
    form: InviteForm,
    errors: HashMap<String, String>,
    error: Option<String>,
    invited: Option<Invited>,
    notice: Option<String>,
    status: StatusCode,
}

impl Default for Extra {
    fn default() -> Self {
        Self {
            form: InviteForm::default(),
            errors: HashMap::new(),
            error: None,
            invited: None,
            notice: None,
            status: StatusCode::OK,
        }
    }
}

async fn render(s: &AppState, session: &ConsoleSession, extra: Extra) -> Response {
    if !session.can(Permission::PeopleRead) {
        return ask_admin(s, session).await;
    }
    let ctx = session.ctx();
    let page = steward_core::pagination::Page { limit: 200, after: None };
    let users = match people::list(&s.db, &ctx, &page).await {
        Ok((u, _)) => u,
        Err(e) => return error_page(&e),
    };
    let all = ListParams { status: None, q: None, sort: None, limit: Some(200), cursor: None };
    let ws = workspaces::list(&s.db, &ctx, &all).await.map(|r| r.0).unwrap_or_default();
    let tz = session.org.timezone.clone();
    let with_2fa = crate::services::two_factor::enrolled_people(&s.db, &ctx).await.unwrap_or_default();
    let people: Vec<PersonRow> = users
        .iter()
        .map(|u| PersonRow {
            id: u.id.to_string(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role.as_str(),
            role_label: format::role(u.role),
            status: u.status.as_str(),
            status_label: format::status(u.status.as_str()),
            last_login: u.last_login_at.map(|t| format::ago(t, session.now)).unwrap_or_else(|| "never".into()),
            two_factor: with_2fa.contains(&u.id.to_string()),
        })
        .collect();
    let page = PeoplePage {
        layout: layout(s, session, "People", "people")
            .await
            .with_notice(extra.notice)
            .with_confirms(people.iter().flat_map(PersonRow::confirms)),
        people,
        workspaces: ws.iter().map(|w| (w.id.to_string(), w.name.clone())).collect(),
        form: extra.form,
        errors: extra.errors,
        error: extra.error,
        invite_url: extra.invited.as_ref().map(|i| s.config.link(&people::invitation_path(&i.token))),
        invite_email: extra.invited.as_ref().map(|i| i.user.email.clone()).unwrap_or_default(),
        invite_expires: extra.invited.as_ref().map(|i| format::date(i.expires_at, &tz).0).unwrap_or_default(),
    };
    (extra.status, page).into_response()
}

async fn list(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<super::NoticeQuery>) -> Response {
    render(&s, &session, Extra { notice: notice_text(q.notice.as_deref()), ..Extra::default() }).await
}

/// The invite form repeats `workspace` for each box ticked, so it is read as pairs.
async fn invite(State(s): State<AppState>, session: ConsoleSession, body: Bytes) -> Response {
    let pairs = super::FormPairs::parse(&body);
    let get = |k: &str| pairs.get(k);
    if let Err(r) = session.check_csrf(&get("csrf_token")) {
        return r;
    }
    let ctx = session.ctx();
    let name = get("name");
    let input = InviteUser {
        email: get("email"),
        name: Some(name.clone()).filter(|n| !n.trim().is_empty()),
        role: Some(get("role")),
    };
    match people::invite(&s.db, &ctx, &s.postbox(), input, s.config.invitation_ttl_hours).await {
        Ok(invited) => {
            let mut problems = Vec::new();
            for ws in pairs.all("workspace") {
                let Ok(ws_id) = ws.parse::<WorkspaceId>() else { continue };
                let role = get(&format!("role_{ws}"));
                if let Err(e) = workspaces::set_member(&s.db, &ctx, &ws_id, &invited.user.id, SetMember { role }).await
                {
                    problems.push(super::refusals::sentence(&e));
                }
            }
            let extra = Extra {
                invited: Some(invited),
                notice: notice_text(Some("invited")),
                error: (!problems.is_empty()).then(|| problems.join(" ")),
                ..Extra::default()
            };
            render(&s, &session, extra).await
        }
        Err(e) if e.status < 500 => {
            let extra = Extra {
                form: InviteForm { email: get("email"), name },
                errors: field_errors(&e),
                error: Some(super::refusals::banner(&e)),
                status: super::refusals::status(Some(&e)),
                ..Extra::default()
            };
            render(&s, &session, extra).await
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChangeForm {
    csrf_token: String,
    role: String,
    status: String,
}

async fn apply(s: &AppState, session: &ConsoleSession, id: &str, patch: UserPatch, notice: &str) -> Response {
    let Ok(id) = id.parse::<UserId>() else { return super::not_found_page() };
    let done = people::update(&s.db, &session.ctx(), &id, patch).await.map(|_| ());
    answer(s, session, done, notice).await
}

/// How a change to one person ends: back to the list with `notice`, to the
/// password prompt when the change needs a fresh sign-in, or the list again
/// with the problem's sentence.
async fn answer(s: &AppState, session: &ConsoleSession, done: steward_core::Result<()>, notice: &str) -> Response {
    match done {
        Ok(()) => see_other(BASE, notice),
        Err(e) if let Some(r) = super::confirm::reauth_redirect(&e, BASE) => r,
        Err(e) if e.status < 500 => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::CONFLICT);
            render(s, session, Extra { error: Some(super::refusals::sentence(&e)), status, ..Extra::default() }).await
        }
        Err(e) => error_page(&e),
    }
}

async fn change_role(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    apply(&s, &session, &id, UserPatch { role: Some(form.role), ..UserPatch::default() }, "role_changed").await
}

async fn change_status(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let notice = if form.status == "deactivated" { "user_deactivated" } else { "user_reactivated" };
    apply(&s, &session, &id, UserPatch { status: Some(form.status), ..UserPatch::default() }, notice).await
}

async fn resend(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let Ok(id) = id.parse::<UserId>() else { return super::not_found_page() };
    match people::resend_invitation(&s.db, &session.ctx(), &s.postbox(), &id, s.config.invitation_ttl_hours).await {
        Ok(invited) => {
            render(
                &s,
                &session,
                Extra { invited: Some(invited), notice: notice_text(Some("invited")), ..Extra::default() },
            )
            .await
        }
        Err(e) if e.status < 500 => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::CONFLICT);
            render(&s, &session, Extra { error: Some(super::refusals::sentence(&e)), status, ..Extra::default() }).await
        }
        Err(e) => error_page(&e),
    }
}

async fn sign_out(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let Ok(id) = id.parse::<UserId>() else { return super::not_found_page() };
    let done = crate::services::sessions::end_all_of(&s.db, &session.ctx(), &s.postbox(), &id).await.map(|_| ());
    answer(&s, &session, done, "user_signed_out").await
}

async fn reset_two_factor(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let Ok(id) = id.parse::<UserId>() else { return super::not_found_page() };
    let done = crate::services::two_factor::reset(&s.db, &session.ctx(), &s.postbox(), &id).await;
    answer(&s, &session, done, "two_factor_reset").await
}
