//! `/account`: a person's own name and password.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use steward_core::ids::SessionId;

use super::dialogs;
use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{NoticeQuery, error_page, field_errors};
use crate::services::{people, sessions};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show).post(rename))
        .route("/account/password", post(change_password))
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/sessions/{id}/end", post(end_one))
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    role: &'static str,
    errors: HashMap<String, String>,
    sessions: Vec<SessionRow>,
}

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    last_seen: String,
    current: bool,
}

async fn page(
    s: &AppState,
    session: &ConsoleSession,
    name: String,
    errors: HashMap<String, String>,
    notice: Option<String>,
) -> AccountPage {
    let role = if session.is_super_admin() { "Super Admin" } else { "Member" };
    let (rows, current) = sessions::mine(&s.db, &session.ctx()).await.unwrap_or_default();
    let sessions = rows
        .into_iter()
        .map(|r| SessionRow {
            current: current.as_ref() == Some(&r.id),
            id: r.id.to_string(),
            device: steward_core::devices::describe(r.user_agent.as_deref()),
            ip: r.ip.unwrap_or_else(|| "—".into()),
            last_seen: super::format::ago(r.last_seen_at, session.now),
        })
        .collect::<Vec<SessionRow>>();
    let others = sessions.iter().filter(|r| !r.current);
    let mut confirms: Vec<_> = others.clone().map(|r| dialogs::end_session(&r.id, &r.device)).collect();
    if others.count() > 0 {
        confirms.push(dialogs::end_other_sessions(sessions.len() - 1));
    }
    let layout = session.layout("Your account", "account").with_notice(notice).with_confirms(confirms);
    AccountPage { layout, name, role, errors, sessions }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CsrfForm {
    csrf_token: String,
}

async fn end_others(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<CsrfForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match sessions::end_mine(&s.db, &session.ctx(), None).await {
        Ok(_) => see_other("/account", "sessions_ended"),
        Err(e) => error_page(&e),
    }
}

async fn end_one(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let Ok(id) = id.parse::<SessionId>() else { return super::not_found_page() };
    match sessions::end_mine(&s.db, &session.ctx(), Some(&id)).await {
        Ok(_) => see_other("/account", "sessions_ended"),
        Err(e) => error_page(&e),
    }
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<NoticeQuery>) -> Response {
    page(&s, &session, session.user.name.clone(), HashMap::new(), notice_text(q.notice.as_deref()))
        .await
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NameForm {
    csrf_token: String,
    name: String,
}

async fn rename(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<NameForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match people::rename_self(&s.db, &session.ctx(), &form.name).await {
        Ok(_) => see_other("/account", "account_saved"),
        Err(e) if e.status == 422 => {
            (StatusCode::UNPROCESSABLE_ENTITY, page(&s, &session, form.name, field_errors(&e), None).await)
                .into_response()
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    session: ConsoleSession,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match people::change_own_password(&s.db, &session.ctx(), &form.current_password, &form.new_password).await {
        Ok(()) => see_other("/account", "password_changed"),
        Err(e) if e.status == 422 => (
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&s, &session, session.user.name.clone(), field_errors(&e), None).await,
        )
            .into_response(),
        Err(e) => error_page(&e),
    }
}
