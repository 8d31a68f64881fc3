//! `/account/two-factor`: enroll with a QR code, see recovery codes once, turn off.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error_page;
use super::organization::layout;
use super::session::{ConsoleSession, Layout};
use crate::services::two_factor::{self, Status};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/two-factor", get(show))
        .route("/account/two-factor/start", post(start))
        .route("/account/two-factor/confirm", post(confirm))
        .route("/account/two-factor/disable", post(disable))
        .route("/account/two-factor/recovery-codes", post(regenerate))
}

#[derive(Template, WebTemplate)]
#[template(path = "two_factor.html")]
struct Page {
    layout: Layout,
    required: bool,
    on: bool,
    unused: i64,
    qr: Option<String>,
    secret: String,
    codes: Vec<String>,
    error: Option<String>,
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    codes: Vec<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let (st, required) =
        match (two_factor::status(&s.db, &s.sealer, &ctx).await, two_factor::required(&s.db, &ctx).await) {
            (Ok(st), Ok(r)) => (st, r),
            (Err(e), _) | (_, Err(e)) => return error_page(&e),
        };
    let (on, unused, qr, secret) = match st {
        Status::On { unused_recovery_codes } => (true, unused_recovery_codes, None, String::new()),
        Status::Enrolling(e) => (false, 0, Some(steward_core::two_factor::svg_data_url(&e.qr_svg)), e.secret),
        Status::Off => (false, 0, None, String::new()),
    };
    let page = Page {
        layout: layout(s, session, "Two-factor authentication", "account").await,
        required,
        on,
        unused,
        qr,
        secret,
        codes,
        error,
    };
    (status, page).into_response()
}

async fn show(State(s): State<AppState>, session: ConsoleSession) -> Response {
    render(&s, &session, Vec::new(), None, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TwoFactorForm {
    csrf_token: String,
    code: String,
    password: String,
}

async fn start(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<TwoFactorForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match two_factor::start(&s.db, &s.sealer, &session.ctx()).await {
        Ok(_) => render(&s, &session, Vec::new(), None, StatusCode::OK).await,
        Err(e) if e.status < 500 => {
            render(&s, &session, Vec::new(), Some(super::refusals::sentence(&e)), StatusCode::CONFLICT).await
        }
        Err(e) => error_page(&e),
    }
}

async fn confirm(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<TwoFactorForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match two_factor::confirm(&s.db, &s.sealer, &session.ctx(), &form.code).await {
        Ok(codes) => render(&s, &session, codes, None, StatusCode::OK).await,
        Err(e) if e.status < 500 => {
            let msg = super::refusals::sentence(&e);
            render(&s, &session, Vec::new(), Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&e),
    }
}

async fn disable(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<TwoFactorForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match two_factor::disable(&s.db, &session.ctx(), &form.password).await {
        Ok(()) => render(&s, &session, Vec::new(), None, StatusCode::OK).await,
        Err(e) if e.status < 500 => {
            let msg = super::refusals::sentence(&e);
            render(&s, &session, Vec::new(), Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&e),
    }
}

async fn regenerate(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<TwoFactorForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    match two_factor::regenerate_codes(&s.db, &s.sealer, &session.ctx(), &form.code).await {
        Ok(codes) => render(&s, &session, codes, None, StatusCode::OK).await,
        Err(e) if e.status < 500 => {
            let msg = super::refusals::sentence(&e);
            render(&s, &session, Vec::new(), Some(msg), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&e),
    }
}
