//! `/account`: a person's own name and password.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{NoticeQuery, error_page, field_errors};
use crate::services::people;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/account", get(show).post(rename)).route("/account/password", post(change_password))
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    role: &'static str,
    errors: HashMap<String, String>,
}

fn page(
    session: &ConsoleSession,
    name: String,
    errors: HashMap<String, String>,
    notice: Option<String>,
) -> AccountPage {
    let role = if session.is_super_admin() { "Super Admin" } else { "member" };
    AccountPage { layout: session.layout("Your account", "account").with_notice(notice), name, role, errors }
}

async fn show(session: ConsoleSession, Query(q): Query<NoticeQuery>) -> Response {
    page(&session, session.user.name.clone(), HashMap::new(), notice_text(q.notice.as_deref())).into_response()
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
            (StatusCode::UNPROCESSABLE_ENTITY, page(&session, form.name, field_errors(&e), None)).into_response()
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
        Err(e) if e.status == 422 => {
            (StatusCode::UNPROCESSABLE_ENTITY, page(&session, session.user.name.clone(), field_errors(&e), None))
                .into_response()
        }
        Err(e) => error_page(&e),
    }
}
