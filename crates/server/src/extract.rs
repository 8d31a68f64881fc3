//! Request extractors that answer bad input with a problem, never a bare 4xx
//! text or a 500: JSON bodies, query strings, the caller and request metadata.

use std::net::{IpAddr, SocketAddr};
use steward_core::messages::{problem, rule};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use steward_core::Error;
use steward_core::authz::Principal;
use steward_core::pagination::Page;

use crate::error::ApiError;
use crate::services::{Ctx, RequestMeta};
use crate::state::AppState;

/// A JSON body. Syntax errors are `400 malformed_json`; a body that parses but
/// doesn't fit (unknown field, wrong type, missing field) is `422
/// validation_failed` naming the field; over the size limit is `413`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(ApiJson).map_err(ApiError)
    }
}

/// The bytes of a body that says it is JSON, within the size limit.
async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
    if !is_json {
        return Err(Error::new(415, &problem::UNSUPPORTED_MEDIA_TYPE, &[]).into());
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        ApiError(if rejection.status().as_u16() == 413 {
            Error::new(413, &problem::PAYLOAD_TOO_LARGE, &[("what", &"request body"), ("limit", &"64 KiB")])
        } else {
            Error::bad_request(&problem::UNREADABLE_BODY, &[("what", &"request body")])
        })
    })
}

/// An optional JSON body: none, an empty one or JSON `null` is `None`.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let has_body = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v != "0");
        let has_type = req.headers().contains_key(CONTENT_TYPE);
        if !has_body || !has_type {
            let bytes = Bytes::from_request(req, state).await.unwrap_or_default();
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            return Err(Error::new(415, &problem::UNSUPPORTED_MEDIA_TYPE, &[]).into());
        }
        let bytes = json_bytes(req, state).await?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(OptionalJson(None));
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v))).map_err(ApiError)
    }
}

/// Parses a JSON body into `T` with field-precise errors.
/// Every request body is a JSON object; serde would otherwise also accept a
/// struct written as an array.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(malformed("the body is empty")),
        Some(b'{') => {}
        Some(b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
            return Err(Error::field("body", &rule::NOT_A_JSON_OBJECT, &[]));
        }
        Some(_) => return Err(malformed("expected a JSON object")),
    }
    if let Some(field) = nul_in_string(bytes) {
        return Err(Error::field(&field, &rule::CONTROL_CHARACTERS, &[("where_", &"")]));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            return malformed(&message);
        }
        let field = if path == "." || path.is_empty() {
            field_from_message(&message).unwrap_or_else(|| "body".into())
        } else {
            path
        };
        let rule = if message.starts_with("unknown field") {
            &rule::UNKNOWN_FIELD
        } else if message.starts_with("missing field") {
            &rule::REQUIRED
        } else {
            &rule::WRONG_TYPE
        };
        Error::field(&field, rule, &[("detail", &message)])
    })?;
    de.end().map_err(|e| malformed(&strip_position(&e.to_string())))?;
    Ok(value)
}

/// The path of a string holding NUL, which no text column can store (PostgreSQL
/// refuses it). Only looked for when the body spells `\u0000`.
fn nul_in_string(bytes: &[u8]) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        let at = |key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
        match v {
            serde_json::Value::String(s) => {
                s.contains('\0').then(|| if path.is_empty() { "body".into() } else { path.into() })
            }
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, x)| walk(x, &format!("{path}[{i}]")))
            }
            serde_json::Value::Object(map) => {
                map.iter().find_map(|(k, x)| if k.contains('\0') { Some(at("body")) } else { walk(x, &at(k)) })
            }
            _ => None,
        }
    }
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    walk(&serde_json::from_slice(bytes).ok()?, "")
}

fn malformed(message: &str) -> Error {
    Error::bad_request(&problem::MALFORMED_JSON, &[("reason", &message)])
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `missing field `name`` → `name`.
fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_owned())
}

/// A query string; a malformed one is `400 invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default().as_bytes();
        if let Some((name, _)) = url::form_urlencoded::parse(query).find(|(_, v)| v.contains('\0')) {
            return Err(Error::field(&name, &rule::CONTROL_CHARACTERS, &[("where_", &"")]).into());
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError(Error::bad_request(&problem::INVALID_QUERY, &[("reason", &e.body_text())])))
    }
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    pub fn page(&self) -> Result<Page, Error> {
        Page::parse(self.limit, self.cursor.as_deref())
    }
}

/// Where a request came from. `X-Forwarded-For` is believed only when the peer
/// is a configured proxy; otherwise the socket's address is used.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Meta(request_meta(parts, &state.config.trusted_proxies)))
    }
}

pub fn request_meta(parts: &Parts, trusted_proxies: &[IpAddr]) -> RequestMeta {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let ip = match peer {
        Some(peer) if trusted_proxies.contains(&peer) => forwarded_client(parts, trusted_proxies).or(Some(peer)),
        other => other,
    };
    let user_agent = parts.headers.get(USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(512).collect());
    RequestMeta { ip: ip.map(|ip| ip.to_string()), user_agent }
}

/// The right-most address in `X-Forwarded-For` that is not one of our proxies.
fn forwarded_client(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let header =
        parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    header.split(',').rev().filter_map(|s| s.trim().parse::<IpAddr>().ok()).find(|ip| !trusted.contains(ip))
}

/// The authenticated caller with request metadata and the time: what a use case needs.
impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = crate::auth::authenticate(state, parts).await.map_err(ApiError)?;
        Ok(Ctx {
            principal: who.principal,
            meta: request_meta(parts, &state.config.trusted_proxies),
            now: state.now(),
            identity: Some(std::sync::Arc::new(who.identity)),
        })
    }
}

/// The authenticated caller; rejects with 401/403 problems.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        crate::auth::authenticate(state, parts).await.map(|who| Caller(who.principal)).map_err(ApiError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!((e.status, e.errors[0].field.as_str(), e.errors[0].code.as_str()), (422, "name", "wrong_type"));
        let e = parse_json::<Body>(br#"{"name": "a", "inner": {"count": "x"}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "inner.count");
        let e = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!((e.errors[0].field.as_str(), e.errors[0].code.as_str()), ("name", "required"));
        let e = parse_json::<Body>(br#"{"name": "a", "admin": true}"#).unwrap_err();
        assert_eq!(e.errors[0].code, "unknown_field");
        let e = parse_json::<Body>(br#"{"name": "a""#).unwrap_err();
        assert_eq!((e.status, e.code), (400, "malformed_json"));
        let e = parse_json::<Body>(br#"{"name": "a"} trailing"#).unwrap_err();
        assert_eq!(e.code, "malformed_json");
        let e = parse_json::<Body>(br#"{"name": "a", "inner": {"count": 1, "x": "\u0000"}}"#).unwrap_err();
        assert_eq!(
            (e.status, e.errors[0].field.as_str(), e.errors[0].code.as_str()),
            (422, "inner.x", "control_characters")
        );
    }
}
