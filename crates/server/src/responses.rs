//! Responses the API and the console send alike: stored images served so that
//! they can't run anything in Steward's origin.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A logo, served so that an SVG can't run anything even when opened directly.
pub fn logo(content_type: &'static str, bytes: Vec<u8>) -> Response {
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
