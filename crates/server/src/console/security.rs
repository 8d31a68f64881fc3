//! Settings → Organization → Security: password policy and session timeouts.

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

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, notice_text, see_other};
use super::{NoticeQuery, error_page, field_errors};
use crate::services::security::{self, SecurityPatch};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/organization/security", get(show).post(save))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SecurityForm {
    csrf_token: String,
    password_min_length: String,
    password_complexity: String,
    session_idle_timeout_minutes: String,
    session_absolute_timeout_hours: String,
    two_factor: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "security.html")]
struct SecurityPage {
    layout: Layout,
    form: SecurityForm,
    complexities: Vec<(&'static str, &'static str)>,
    modes: Vec<(&'static str, &'static str)>,
    errors: HashMap<String, String>,
    error: Option<String>,
}

fn modes() -> Vec<(&'static str, &'static str)> {
    vec![("optional", "Optional"), ("required", "Required for everyone"), ("disabled", "Disabled")]
}

fn complexities() -> Vec<(&'static str, &'static str)> {
    vec![("off", "Length only"), ("strength", "Strong (hard to guess)"), ("classes", "Mixed characters (3 of 4 kinds)")]
}

async fn show(State(s): State<AppState>, session: ConsoleSession, Query(q): Query<NoticeQuery>) -> Response {
    if !session.can(Permission::SecurityRead) {
        return ask_admin(&s, &session).await;
    }
    let settings = match security::get(&s.db, &session.ctx()).await {
        Ok(v) => v,
        Err(e) => return error_page(&e),
    };
    let form = SecurityForm {
        csrf_token: String::new(),
        password_min_length: settings.password_min_length.to_string(),
        password_complexity: settings.password_complexity.as_str().to_owned(),
        session_idle_timeout_minutes: settings.session_idle_timeout_minutes.to_string(),
        session_absolute_timeout_hours: settings.session_absolute_timeout_hours.to_string(),
        two_factor: settings.two_factor.as_str().to_owned(),
    };
    SecurityPage {
        layout: layout(&s, &session, "Security", "security").await.with_notice(notice_text(q.notice.as_deref())),
        form,
        complexities: complexities(),
        modes: modes(),
        errors: HashMap::new(),
        error: None,
    }
    .into_response()
}

async fn save(State(s): State<AppState>, session: ConsoleSession, Form(form): Form<SecurityForm>) -> Response {
    if let Err(r) = session.check_csrf(&form.csrf_token) {
        return r;
    }
    let mut errors = HashMap::new();
    let mut number = |field: &str, v: &str| match v.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            let refusal = steward_core::FieldError::new(field, &steward_core::messages::rule::NOT_A_WHOLE_NUMBER, &[]);
            errors.insert(field.to_owned(), refusal.message_naming(&super::refusals::label(field)));
            None
        }
    };
    let patch = SecurityPatch {
        password_min_length: number("password_min_length", &form.password_min_length),
        password_complexity: Some(form.password_complexity.clone()),
        session_idle_timeout_minutes: number("session_idle_timeout_minutes", &form.session_idle_timeout_minutes),
        session_absolute_timeout_hours: number("session_absolute_timeout_hours", &form.session_absolute_timeout_hours),
        two_factor: Some(form.two_factor.clone()).filter(|v| !v.is_empty()),
    };
    let result =
        if errors.is_empty() { security::update(&s.db, &session.ctx(), patch).await.map(|_| ()) } else { Ok(()) };
    match result {
        Ok(()) if errors.is_empty() => see_other("/settings/organization/security", "security_saved"),
        Err(e) if let Some(r) = super::confirm::reauth_redirect(&e, "/settings/organization/security") => r,
        Err(e) if e.status >= 500 => error_page(&e),
        other => {
            if let Err(e) = &other {
                errors.extend(field_errors(e));
            }
            let page = SecurityPage {
                layout: layout(&s, &session, "Security", "security").await,
                form,
                complexities: complexities(),
                modes: modes(),
                errors,
                error: other.err().map(|e| super::refusals::banner(&e)),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
        }
    }
}
