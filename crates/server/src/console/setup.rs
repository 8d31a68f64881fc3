//! `/setup`: the one-time form that creates the first organization.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::{error_page, field_errors, message};
use crate::api::sessions::session_cookie;
use crate::auth::check_same_site;
use crate::extract::Meta;
use crate::services::sessions::{Login, cookie_max_age, login};
use crate::services::setup::{self, SetupRequest};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/setup", get(show).post(submit))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetupForm {
    token: String,
    organization_name: String,
    organization_slug: String,
    admin_name: String,
    admin_email: String,
    admin_password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    token: String,
    form: SetupForm,
    errors: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn already_done() -> Response {
    message(
        StatusCode::CONFLICT,
        "Steward is already set up",
        "This deployment already has an organization. Sign in, or ask a Super Admin to invite you.",
        Some(("/", "Go to the home page")),
    )
}

async fn show(State(s): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    match setup::is_complete(&s.db).await {
        Ok(true) => already_done(),
        Ok(false) => SetupPage {
            token: q.token.unwrap_or_default(),
            form: SetupForm::default(),
            errors: HashMap::new(),
            error: None,
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn submit(
    State(s): State<AppState>,
    Meta(meta): Meta,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    if let Err(e) = check_same_site(&headers, &s.config.public_url) {
        return error_page(&e);
    }
    let slug = form.organization_slug.trim();
    let req = SetupRequest {
        token: form.token.clone(),
        organization_name: form.organization_name.clone(),
        organization_slug: (!slug.is_empty()).then(|| slug.to_owned()),
        admin_name: form.admin_name.clone(),
        admin_email: form.admin_email.clone(),
        admin_password: form.admin_password.clone(),
    };
    match setup::complete(&s.db, &meta, s.now(), req).await {
        Ok(created) => {
            // Sign the new Super Admin in right away.
            let login_input = Login {
                email: created.admin.email.clone(),
                password: form.admin_password,
                organization: Some(created.organization.slug.clone()),
                totp_code: None,
                recovery_code: None,
            };
            let text = format!(
                "{} is ready and you are its Super Admin ({}). Next, create an API key with POST /api/v1/api-keys or `steward api-key create --org {} --name NAME --scope admin`.",
                created.organization.name, created.admin.email, created.organization.slug
            );
            let mut res = message(
                StatusCode::CREATED,
                "Your organization is ready",
                &text,
                Some(("/api/v1/openapi.json", "Open the API description")),
            );
            if let Ok(new) = login(&s.db, &s.sealer, &s.postbox(), &meta, s.now(), login_input).await
                && let Ok(v) = HeaderValue::from_str(&session_cookie(&s.config, &new.token, cookie_max_age(&new)))
            {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) if e.code == "setup_already_completed" => already_done(),
        Err(e) => {
            let (errors, error) = if e.errors.is_empty() {
                (HashMap::new(), Some(e.detail.clone()))
            } else {
                (field_errors(&e), Some(super::refusals::banner(&e)))
            };
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            let token = form.token.clone();
            (status, SetupPage { token, form: SetupForm { admin_password: String::new(), ..form }, errors, error })
                .into_response()
        }
    }
}
