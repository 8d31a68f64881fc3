//! Turning a request's credentials into a [`Principal`].
//!
//! - `Authorization: Bearer stw_live_…` is an API key; any other bearer value is
//!   a session token (for non-browser clients). Bearer requests need no CSRF token.
//! - Otherwise the session cookie. Cookie requests that change state must carry
//!   the session's CSRF token in `X-CSRF-Token` (or the form's `csrf_token`,
//!   checked by the console) and must not come from another site.
//! - Credentials in the query string are refused outright; they leak into logs.

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use steward_core::authz::Principal;
use steward_core::messages::problem;
use steward_core::people::UserStatus;
use steward_core::tokens::{API_KEY_PREFIX, hash_secret, is_well_formed_api_key};
use steward_core::{Error, Result};
use steward_store::{api_keys, sessions};

use crate::rate_limit::RateSlot;
use crate::services::people::Identity;
use crate::services::sessions::TOUCH_INTERVAL_MS;
use crate::state::AppState;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller, and who it is (read in the same query).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub identity: Identity,
}

pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Authenticated> {
    if let Some(query) = parts.uri.query() {
        let lowered = query.to_ascii_lowercase();
        if ["api_key=", "access_token=", "token=", "key="].iter().any(|k| lowered.split('&').any(|p| p.starts_with(k)))
        {
            return Err(Error::bad_request(&problem::CREDENTIALS_IN_QUERY, &[]));
        }
    }
    if let Some(bearer) = bearer_token(&parts.headers)? {
        return if bearer.starts_with(API_KEY_PREFIX) {
            authenticate_api_key(state, &bearer, parts).await
        } else {
            let (who, _, must_enroll) = authenticate_session(state, &bearer).await?;
            enrollment_gate(must_enroll, parts)?;
            Ok(who)
        };
    }
    if let Some(token) = cookie_value(&parts.headers, state.config.session_cookie_name()) {
        let (who, csrf, must_enroll) = authenticate_session(state, &token).await?;
        enrollment_gate(must_enroll, parts)?;
        if is_state_changing(&parts.method) {
            check_same_site(&parts.headers, &state.config.public_url)?;
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
                return Err(Error::forbidden(&problem::CSRF_TOKEN_INVALID, &[]));
            }
        }
        return Ok(who);
    }
    Err(Error::unauthorized(&problem::AUTHENTICATION_REQUIRED, &[]))
}

fn bearer_token(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().unwrap_or("");
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(Error::unauthorized(&problem::INVALID_AUTHORIZATION, &[])),
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses cookie writes that a browser marks as cross-site, or whose `Origin`
/// is not this server's.
pub fn check_same_site(headers: &HeaderMap, public_url: &str) -> Result<()> {
    let refused = || Error::forbidden(&problem::CROSS_SITE_REQUEST, &[]);
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v == "cross-site") {
        return Err(refused());
    }
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) {
        let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("");
        let same_host = origin.split_once("://").is_some_and(|(_, rest)| rest == host);
        if origin != public_url && !same_host {
            return Err(refused());
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && !b.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate_api_key(state: &AppState, key: &str, parts: &Parts) -> Result<Authenticated> {
    let invalid = || Error::unauthorized(&problem::INVALID_API_KEY, &[]);
    if !is_well_formed_api_key(key) {
        return Err(invalid());
    }
    let hash = hash_secret(key);
    let cache = state.db.keys();
    // Read first: if a revocation evicts anything after this, nothing read
    // here goes back into the cache.
    let seen = cache.generation();
    let found = match cache.get(&hash) {
        Some(found) => found,
        None => {
            let mut c = state.db.conn().await?;
            let found = api_keys::by_hash(&mut c, &hash).await?.ok_or_else(invalid)?;
            cache.put(&hash, found.clone(), seen);
            found
        }
    };
    let k = found.key;
    let now = state.now();
    if k.revoked_at.is_some() {
        return Err(invalid());
    }
    if k.expires_at.is_some_and(|t| t <= now) {
        return Err(Error::unauthorized(&problem::API_KEY_EXPIRED, &[]));
    }
    // `last_used_at` moves at most once a minute: most requests only read.
    if k.last_used_at.is_none_or(|t| now.millis() - t.millis() >= api_keys::TOUCH_INTERVAL_MS) {
        let mut c = state.db.conn().await?;
        api_keys::touch(&mut c, &k.id, now).await?;
        let mut touched = api_keys::KeyWithOrg { key: k.clone(), org: found.org.clone() };
        touched.key.last_used_at = Some(now);
        cache.put(&hash, touched, seen);
    }
    let limit = u32::try_from(k.rate_limit_per_minute).unwrap_or(u32::MAX);
    let decision = match parts.extensions.get::<RateSlot>() {
        Some(slot) => match slot.get() {
            Some(d) => d,
            None => slot.set(state.limiter.hit(k.id.as_str(), limit, now).await),
        },
        None => state.limiter.hit(k.id.as_str(), limit, now).await,
    };
    if !decision.allowed {
        return Err(Error::new(
            429,
            &problem::RATE_LIMITED,
            &[("limit", &decision.limit), ("seconds", &decision.reset_secs)],
        )
        .with_extension("retry_after", decision.reset_secs));
    }
    let identity = Identity { organization: found.org, user: None };
    Ok(Authenticated { principal: Principal::api_key(k.org_id, k.id, k.name, k.scopes), identity })
}

/// Paths a session that must enroll in 2FA may still use.
const ENROLLMENT_PATHS: [&str; 3] =
    ["/api/v1/me/two-factor/totp", "/api/v1/me/two-factor/totp/confirm", "/api/v1/sessions/current"];

/// SEC-3: when the organization requires 2FA, a person without it can do
/// nothing but enroll (and sign out).
fn enrollment_gate(must_enroll: bool, parts: &Parts) -> Result<()> {
    // Nested routers see a shortened path; the original one is what counts.
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    if must_enroll && !ENROLLMENT_PATHS.contains(&path.as_str()) {
        return Err(Error::forbidden(&problem::TWO_FACTOR_ENROLLMENT_REQUIRED, &[]));
    }
    Ok(())
}

/// Returns the caller, the session's CSRF token, and whether it must enroll in 2FA first.
pub async fn authenticate_session(state: &AppState, token: &str) -> Result<(Authenticated, String, bool)> {
    let mut c = state.db.conn().await?;
    let found = sessions::by_token_hash(&mut c, &hash_secret(token))
        .await?
        .ok_or_else(|| Error::unauthorized(&problem::SESSION_EXPIRED, &[]))?;
    let now = state.now();
    let s = &found.session;
    if now >= s.idle_expires_at || now >= s.absolute_expires_at {
        sessions::expire(&mut c, &s.id).await?;
        return Err(Error::unauthorized(&problem::SESSION_EXPIRED, &[]));
    }
    if found.user.status != UserStatus::Active {
        return Err(Error::unauthorized(&problem::ACCOUNT_INACTIVE, &[]));
    }
    if now.millis() - s.last_seen_at.millis() >= TOUCH_INTERVAL_MS {
        let idle = now.plus_seconds(s.idle_secs).min(s.absolute_expires_at);
        sessions::touch(&mut c, &s.id, now, idle).await?;
    }
    let principal = Principal::session(
        s.org_id.clone(),
        s.id.clone(),
        s.user_id.clone(),
        found.user.role,
        found.user.email.clone(),
    );
    let (csrf, must_enroll) = (s.csrf_token.clone(), found.must_enroll);
    let identity = Identity { organization: found.org, user: Some(found.user) };
    Ok((Authenticated { principal, identity }, csrf, must_enroll))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_same_site() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; steward_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h, "steward_session").as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "other"), None);

        let mut h = HeaderMap::new();
        h.insert("host", "127.0.0.1:8080".parse().unwrap());
        h.insert("origin", "http://127.0.0.1:8080".parse().unwrap());
        assert!(check_same_site(&h, "http://localhost:8080").is_ok());
        h.insert("origin", "https://evil.example".parse().unwrap());
        assert!(check_same_site(&h, "http://localhost:8080").is_err());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(check_same_site(&h, "http://localhost:8080").is_err());
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"", b""));
    }
}
