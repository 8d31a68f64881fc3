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
use crate::services::two_factor;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(submit))
        .route("/login/code", post(submit_code))
        .route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    email: String,
    organization: String,
    expired: bool,
    signed_out: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    signed_out: Option<String>,
}

async fn show(Query(q): Query<LoginQuery>) -> Response {
    let page = LoginPage {
        next: safe_next(q.next.as_deref()),
        email: String::new(),
        organization: String::new(),
        expired: q.expired.is_some(),
        signed_out: q.signed_out.is_some(),
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
    let input = Login {
        email: form.email.clone(),
        password: form.password.clone(),
        organization: (!org.is_empty()).then(|| org.to_owned()),
        totp_code: None,
        recovery_code: None,
    };
    let next = safe_next(Some(&form.next));
    let user = match sessions::verify_password(&s.db, &meta, s.now(), &input).await {
        Ok(user) => user,
        Err(e) => {
            let page = LoginPage {
                next,
                email: form.email,
                organization: form.organization,
                expired: false,
                signed_out: false,
                error: Some(super::refusals::sentence(&e)),
            };
            return (StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED), page).into_response();
        }
    };
    // With 2FA, the code comes on a page of its own.
    match two_factor::begin_challenge(&s.db, &user, s.now()).await {
        Ok(Some(challenge)) => CodePage { challenge, next, error: None }.into_response(),
        Ok(None) => finish(&s, &meta, user, None, &next).await,
        Err(e) => error_page(&e),
    }
}

async fn finish(
    s: &AppState,
    meta: &crate::services::RequestMeta,
    user: steward_store::users::User,
    code: Option<&str>,
    next: &str,
) -> Response {
    let second = sessions::SecondFactor::typed(code);
    match sessions::start(&s.db, &s.sealer, &s.postbox(), meta, s.now(), user, second).await {
        Ok(new) => {
            let mut res = Redirect::to(next).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&s.config, &new.token, sessions::cookie_max_age(&new)))
            {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login_code.html")]
struct CodePage {
    challenge: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CodeForm {
    challenge: String,
    code: String,
    next: String,
}

async fn submit_code(
    State(s): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(e) = check_same_site(&headers, &s.config.public_url) {
        return error_page(&e);
    }
    let next = safe_next(Some(&form.next));
    let user = match two_factor::challenge_user(&s.db, &form.challenge, s.now()).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let page = LoginPage {
                next,
                email: String::new(),
                organization: String::new(),
                expired: false,
                signed_out: false,
                error: Some("That sign-in took too long. Enter your email and password again.".into()),
            };
            return (StatusCode::UNAUTHORIZED, page).into_response();
        }
        Err(e) => return error_page(&e),
    };
    let second = sessions::SecondFactor::typed(Some(&form.code));
    match sessions::start(&s.db, &s.sealer, &s.postbox(), &meta, s.now(), user, second).await {
        Ok(new) => {
            let _ = two_factor::end_challenge(&s.db, &form.challenge).await;
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&s.config, &new.token, sessions::cookie_max_age(&new)))
            {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) if e.status < 500 => {
            let error = Some(if e.code == "too_many_attempts" || e.code == "account_locked" {
                e.detail
            } else {
                "That code is not right, or was already used. Try the current one.".into()
            });
            (StatusCode::UNAUTHORIZED, CodePage { challenge: form.challenge, next, error }).into_response()
        }
        Err(e) => error_page(&e),
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
    let mut res = Redirect::to("/login?signed_out=1").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(&s.config)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
