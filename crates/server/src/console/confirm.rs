//! `/account/confirm`: re-entering the password before a sensitive action.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use steward_core::Error;

use super::error_page;
use super::organization::layout;
use super::session::{ConsoleSession, Layout, safe_next, see_other, urlencode};
use crate::services::sessions::{self, Reauthenticate};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/account/confirm", get(show).post(submit))
}

/// When a use case asks for a fresh proof of identity, send the person to
/// confirm it and bring them back to `back` (where they repeat the action).
pub fn reauth_redirect(e: &Error, back: &str) -> Option<Response> {
    (e.code == "reauthentication_required")
        .then(|| Redirect::to(&format!("/account/confirm?next={}", urlencode(back))).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextQuery {
    next: Option<String>,
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<NextQuery>) -> Response {
    ConfirmPage {
        layout: layout(&s, &session, "Confirm it's you", "account").await,
        next: safe_next(q.next.as_deref()),
        error: None,
    }
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfirmForm {
    csrf_token: String,
    next: String,
    password: String,
    code: String,
}

async fn submit(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<ConfirmForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let input = Reauthenticate {
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
        totp_code: Some(form.code.trim().to_owned()).filter(|c| !c.is_empty()),
    };
    let next = safe_next(Some(&form.next));
    match sessions::reauthenticate(&s.db, &s.sealer, &session.ctx(), input).await {
        Ok(()) => see_other(&next, "confirmed"),
        Err(e) if e.status < 500 => {
            let page = ConfirmPage {
                layout: layout(&s, &session, "Confirm it's you", "account").await,
                next,
                error: Some("That password or code is not correct.".into()),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
        Err(e) => error_page(&e),
    }
}
