//! The JSON API under `/api/v1`. One module per area; each handler parses, calls
//! a use case in [`crate::services`] and renders a view from [`views`].

pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod connections;
pub mod content;
pub mod credits;
pub mod invitations;
pub mod me;
pub mod media;
pub mod organization;
pub mod permissions;
pub mod reports;
pub mod security;
pub mod sessions;
pub mod setup;
pub mod two_factor;
pub mod users;
pub mod views;
pub mod webhooks;
pub mod workspaces;

use std::str::FromStr;

use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// Every API route, with its OpenAPI description, mounted at `/api/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(setup::router())
        .merge(sessions::router())
        .merge(me::router())
        .merge(permissions::router())
        .merge(organization::router())
        .merge(users::router())
        .merge(invitations::router())
        .merge(api_keys::router())
        .merge(webhooks::router())
        .merge(credits::router())
        .merge(reports::router())
        .merge(audit::router())
        .merge(security::router())
        .merge(two_factor::router())
        .merge(workspaces::router())
        .merge(campaigns::router())
        .merge(content::router())
        .merge(connections::router())
        .merge(media::router());
    OpenApiRouter::new().nest("/api/v1", v1)
}

/// A path id of the wrong kind or shape can't name anything: it is a 404.
pub fn parse_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError(steward_core::Error::not_found(what)))
}
