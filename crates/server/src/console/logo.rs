//! The logo as the console shows it (any signed-in member of the organization).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::ids::OrgId;

use super::message;
use super::session::ConsoleSession;
use crate::services::logo;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/organization/logo", get(show))
}

pub async fn exists(s: &AppState, org: &OrgId) -> bool {
    logo::exists(&s.files, org).await
}

async fn show(State(s): State<AppState>, session: ConsoleSession) -> Response {
    match logo::read(&s.files, &session.org.id).await {
        Some((ct, bytes)) => logo_response(ct, bytes),
        None => message(StatusCode::NOT_FOUND, "No logo", "This organization has no logo yet.", None),
    }
}

/// Served so that an SVG can't run anything even when opened directly.
pub fn logo_response(content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    res
}
