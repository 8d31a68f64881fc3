//! Errors as RFC 9457 `application/problem+json`, with a stable `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward_core::FieldError;
use steward_store::StoreError;

/// An error answered by the API. Wraps the domain error so it can be a response.
#[derive(Debug)]
pub struct ApiError(pub steward_core::Error);

impl From<steward_core::Error> for ApiError {
    fn from(e: steward_core::Error) -> Self {
        Self(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self(e.into())
    }
}

/// The problem document, as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:steward:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do about it.
    pub detail: String,
    /// A stable, machine-readable code (`validation_failed`, `not_found`, …).
    #[schema(schema_with = steward_core::messages::problem_code_schema)]
    pub code: String,
    /// Per-field errors, for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a 403 refused for a missing permission: its name (`people:write`;
    /// see `GET /api/v1/permissions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// The request's id, also in the `X-Request-Id` header: quote it to support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The problem document of `e`, as JSON text.
pub fn problem_json(e: &steward_core::Error) -> String {
    problem_body(e).to_string()
}

fn problem_body(e: &steward_core::Error) -> serde_json::Value {
    let mut body = serde_json::json!({
        "type": format!("urn:steward:problem:{}", e.code),
        "title": e.title,
        "status": e.status,
        "detail": e.detail,
        "code": e.code,
    });
    if let Some(obj) = body.as_object_mut() {
        if !e.errors.is_empty() {
            obj.insert("errors".into(), serde_json::to_value(&e.errors).unwrap_or_default());
        }
        for (k, v) in &e.extensions {
            obj.entry(k.clone()).or_insert_with(|| v.clone());
        }
        // Outside a request (a test calling this directly) there is none.
        if let Some(id) = crate::observe::current_request_id() {
            obj.insert("request_id".into(), id.into());
        }
    }
    body
}

pub fn problem_response(e: &steward_core::Error) -> Response {
    let body = problem_body(e);
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(secs) = e.extensions.get("retry_after").and_then(|v| v.as_i64())
        && let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(&self.0)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
