//! The logo as the console shows it (any signed-in member of the organization).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::message;
use super::session::ConsoleSession;
use crate::services::logo;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/organization/logo", get(show))
}

pub async fn exists(s: &AppState, session: &ConsoleSession) -> bool {
    logo::exists_own(&session.ctx(), &s.files).await
}

async fn show(State(s): State<AppState>, session: ConsoleSession) -> Response {
    match logo::read_own(&session.ctx(), &s.files).await {
        Ok(Some((ct, bytes))) => crate::responses::logo(ct, bytes),
        Ok(None) => message(StatusCode::NOT_FOUND, "No logo", "This organization has no logo yet.", None),
        Err(e) => super::error_page(&e),
    }
}
