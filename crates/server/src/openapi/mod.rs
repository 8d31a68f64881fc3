//! The OpenAPI document, generated from the handlers' annotations. A test keeps
//! the committed `openapi.json` in step with the code.

mod answers;
pub mod docs;

use serde_json::Value;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::Problem;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        version = "1.0.0",
        description = "The organization control plane: organizations, people, sessions, API keys, the audit trail, workspaces and what they hold.\n\n\
            Authenticate with `Authorization: Bearer <API key or session token>`, or the console's session cookie \
            (then send `X-CSRF-Token` on writes). Errors are RFC 9457 `application/problem+json` with a stable `code`. \
            Lists take `?limit=` (1–200, default 50) and `?cursor=` and answer `{\"data\": [...], \"next_cursor\": …}`.\n\n\
            Every operation names the permission it needs in `x-permission` (`none`: any caller it admits, such as \
            the signed-in person for their own account). A refusal for a missing permission is a 403 whose problem \
            names it in `permission`. `GET /api/v1/permissions` lists them all."
    ),
    modifiers(&Security),
    components(schemas(Problem)),
    tags(
        (name = "setup", description = "First start of a deployment"),
        (name = "sessions", description = "Signing in and out"),
        (name = "organization", description = "The caller's organization (Super Admins)"),
        (name = "people", description = "Users, roles and invitations"),
        (name = "api_keys", description = "API keys of the organization"),
        (name = "permissions", description = "The permissions that roles and API keys hold"),
        (name = "audit", description = "The audit trail"),
        (name = "security", description = "Password policy and session timeouts"),
        (name = "two_factor", description = "Two-factor authentication (TOTP and recovery codes)"),
        (name = "workspaces", description = "Workspaces, their lifecycle and members"),
        (name = "campaigns", description = "Campaigns of a workspace"),
        (name = "content", description = "Content items of a workspace"),
        (name = "connections", description = "Platform connections of a workspace"),
        (name = "media", description = "Media files of a workspace"),
        (name = "webhooks", description = "Webhook endpoints, their deliveries, and the event types (Standard Webhooks)"),
        (name = "credits", description = "The organization's credit balance, debits, the ledger, usage and alerts"),
        (name = "reports", description = "Usage reports as CSV or PDF, written in the background")
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("steward_session"))),
        );
        doc.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session_cookie", Vec::<String>::new()),
        ]);
    }
}

/// The API routes with the full document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(crate::api::router())
}

/// The API's routes and its finished document: what the handlers declare, with
/// what every operation can answer besides (see [`answers`]).
pub fn routes() -> (axum::Router<AppState>, Value) {
    let (router, doc) = api().split_for_parts();
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    answers::complete(&mut doc);
    (router, doc)
}

pub fn document() -> Value {
    routes().1
}

/// The document as committed in `openapi.json` (pretty, trailing newline).
pub fn document_json() -> String {
    to_json(&document())
}

pub fn to_json(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}
