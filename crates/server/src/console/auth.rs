//! Sign-in and sign-out pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::error_page;
use super::session::{ConsoleSession, safe_next};
use crate::api::sessions::{clear_cookie, session_cookie};
use crate::auth::check_same_site;
use crate::extract::Meta;
use crate::services::sessions::{self, Login};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(show).post(submit)).route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    email: String,
    organization: String,
    expired: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

async fn show(Query(q): Query<LoginQuery>) -> Response {
    let page = LoginPage {
        next: safe_next(q.next.as_deref()),
        email: String::new(),
        organization: String::new(),
        expired: q.expired.is_some(),
        error: None,
    };
    page.into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    email: String,
    password: String,
    organization: String,
    code: String,
    next: String,
}

async fn submit(
    State(s): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(e) = check_same_site(&headers, &s.config.public_url) {
        return error_page(&e);
    }
    let org = form.organization.trim();
    // One field takes either an app code (digits) or a recovery code.
    let code = form.code.trim().to_owned();
    let is_app_code = !code.is_empty() && code.chars().all(|c| c.is_ascii_digit() || c.is_whitespace());
    let input = Login {
        email: form.email.clone(),
        password: form.password,
        organization: (!org.is_empty()).then(|| org.to_owned()),
        totp_code: is_app_code.then(|| code.clone()),
        recovery_code: (!is_app_code && !code.is_empty()).then(|| code.clone()),
    };
    match sessions::login(&s.db, &meta, s.now(), input).await {
        Ok(new) => {
            let mut res = Redirect::to(&safe_next(Some(&form.next))).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&s.config, &new.token, sessions::cookie_max_age(&new)))
            {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            let page = LoginPage {
                next: safe_next(Some(&form.next)),
                email: form.email,
                organization: form.organization,
                expired: false,
                error: Some(match e.code {
                    "two_factor_required" => {
                        "Enter the 6-digit code from your authenticator app, or a recovery code, with your password."
                            .to_owned()
                    }
                    _ => e.detail.clone(),
                }),
            };
            (StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED), page).into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CsrfOnly {
    csrf_token: String,
}

async fn logout(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<CsrfOnly>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    if let Err(e) = sessions::logout(&s.db, &session.ctx()).await {
        return error_page(&e);
    }
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(&s.config)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
