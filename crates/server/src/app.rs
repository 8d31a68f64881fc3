//! The whole HTTP application: API, console, health checks, and the layers every
//! response passes through (security headers, body limit, panic guard, and
//! request id, log line and metrics in [`observe`](crate::observe)).

use std::sync::Arc;
use std::time::Duration;
use steward_core::messages::problem;

use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use steward_core::Error;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::problem_response;
use crate::state::AppState;
use crate::{console, observe, openapi};

/// JSON bodies are small; anything bigger is refused with 413 before parsing.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// `/readyz` answers within this even when connecting to the database hangs,
/// so a load balancer takes the instance out at once.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

// `blob:` images: the logo cropper previews the chosen file before uploading it.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn build_app(state: AppState) -> Router {
    // The jobs' gauges, sampled at each scrape with the state's own clock.
    crate::jobs::gauges::register(&state.metrics, state.db.clone(), state.clock.clone());
    let (api_routes, doc) = openapi::routes();
    let doc_json: Arc<str> = Arc::from(openapi::to_json(&doc));
    // Rendered once: the document does not change while the process runs.
    let docs_page: Arc<str> = Arc::from(openapi::docs::ApiDocsPage::from_document(&doc).render().unwrap_or_default());
    Router::new()
        .merge(api_routes)
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc_json.to_string()) }),
        )
        .route("/api/docs", get(move || async move { axum::response::Html(docs_page.to_string()) }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(crate::rate_limit::headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(CatchPanicLayer::custom(|_| problem_response(&Error::internal())))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::CACHE_CONTROL, "no-store"))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Liveness: the process answers.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers too, within [`READY_TIMEOUT`].
async fn readyz(State(s): State<AppState>) -> Response {
    let failed = match tokio::time::timeout(READY_TIMEOUT, s.db.ping()).await {
        Ok(Ok(())) => {
            return Json(serde_json::json!({ "status": "ready", "database": s.db.engine().name() })).into_response();
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(error = %failed, "readiness check failed");
    problem_response(&steward_store::error::database_unavailable())
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        problem_response(&Error::new(404, &problem::ROUTE_NOT_FOUND, &[("path", &uri.path())]))
    } else {
        console::not_found_page()
    }
}

async fn method_not_allowed() -> Response {
    problem_response(&Error::new(405, &problem::METHOD_NOT_ALLOWED, &[]))
}
