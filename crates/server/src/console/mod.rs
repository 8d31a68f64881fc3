//! Server-rendered pages: sign-in, the organization area (Settings →
//! Organization), the member's workspaces, setup and invitations. Handlers call
//! the same use cases as the API; templates live in `templates/`.

// Handlers answer early with a ready page (`Result<_, Response>`), as axum does.
#![allow(clippy::result_large_err)]

mod account;
mod audit;
mod auth;
mod confirm;
mod credits;
mod dialogs;
pub mod format;
mod integrations;
mod invitations;
pub mod logo;
mod member;
mod organization;
mod people;
mod refusals;
mod reports;
mod security;
pub mod session;
mod settings;
mod setup;
mod two_factor;
mod webhooks;
mod workspace_page;
mod workspaces;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::Error;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/static/steward.css", get(stylesheet))
        .route("/static/console.js", get(script))
        .merge(setup::router())
        .merge(invitations::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(organization::router())
        .merge(workspaces::router())
        .merge(people::router())
        .merge(security::router())
        .merge(settings::router())
        .merge(two_factor::router())
        .merge(confirm::router())
        .merge(audit::router())
        .merge(member::router())
        .merge(logo::router())
        .merge(integrations::router())
        .merge(webhooks::router())
        .merge(credits::router())
        .merge(reports::router())
}

/// `?notice=` after an action (see [`session::notice_text`]).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/console.js"),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/steward.css"),
    )
        .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub heading: String,
    pub text: String,
    pub link_href: Option<String>,
    pub link_text: String,
    /// On error pages: the request's id, for the person to quote to support.
    pub request_id: Option<String>,
}

pub fn message(status: StatusCode, heading: &str, text: &str, link: Option<(&str, &str)>) -> Response {
    let page = MessagePage {
        heading: heading.to_owned(),
        text: text.to_owned(),
        link_href: link.map(|(h, _)| h.to_owned()),
        link_text: link.map(|(_, t)| t.to_owned()).unwrap_or_default(),
        request_id: None,
    };
    (status, page).into_response()
}

pub fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Check the link, or start from the home page.",
        Some(("/", "Go to the home page")),
    )
}

/// A domain error as a page: its detail is written for people.
pub fn error_page(e: &Error) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let page = MessagePage {
        heading: e.title.to_owned(),
        text: e.detail.clone(),
        link_href: Some("/".into()),
        link_text: "Go to the home page".into(),
        request_id: crate::observe::current_request_id(),
    };
    let mut res = (status, page).into_response();
    if let Some(secs) = e.extensions.get("retry_after").and_then(|v| v.as_i64())
        && let Ok(v) = header::HeaderValue::from_str(&secs.max(1).to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub use refusals::field_errors;

/// A posted form read as pairs, for forms that repeat a name (one per box ticked).
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub fn parse(body: &[u8]) -> Self {
        FormPairs(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `key`; empty when absent.
    pub fn get(&self, key: &str) -> String {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

async fn index(
    axum::extract::State(s): axum::extract::State<AppState>,
    session: Option<session::ConsoleSession>,
) -> Response {
    if let Some(session) = session {
        let to = if session.can(steward_core::permissions::Permission::OrganizationRead) {
            "/settings/organization"
        } else {
            "/w"
        };
        return axum::response::Redirect::to(to).into_response();
    }
    match crate::services::setup::is_complete(&s.db).await {
        Ok(true) => axum::response::Redirect::to("/login").into_response(),
        Ok(false) => message(
            StatusCode::OK,
            "Welcome to Steward",
            "This deployment has no organization yet. Open the setup link the server printed when it started to create the first one.",
            None,
        ),
        Err(e) => error_page(&e),
    }
}
