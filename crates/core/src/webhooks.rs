//! Webhooks by Standard Webhooks 1.0 (API-2): endpoint secrets, signatures,
//! the event types an endpoint may want, the retry schedule, and which
//! addresses a delivery may connect to.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::messages::rule;
use crate::{Error, Result};

/// The prefix of an endpoint secret as shown: `whsec_` + base64 of the key.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the spec asks 24 to 64).
const SECRET_BYTES: usize = 32;
pub const URL_MAX: usize = 2000;

/// A new endpoint secret, as shown once to the person who made it.
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::fill(&mut key[..]);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key of a secret: the DECODED bytes after `whsec_`, not the text.
pub fn secret_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret)).ok().filter(|k| k.len() >= 16)
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per valid secret (two while
/// a rotated-out secret is still honoured), space-separated.
pub fn signature_header(keys: &[Vec<u8>], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter().map(|k| sign(k, msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// An event type an endpoint can subscribe to: its name, what it means, and
/// the audit action it is sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    pub description: &'static str,
    /// The audit action whose event becomes this webhook event.
    pub action: &'static str,
}

const fn ev(name: &'static str, action: &'static str, description: &'static str) -> EventType {
    EventType { name, description, action }
}

/// The catalog (`GET /api/v1/webhook-event-types`). Events come from the audit
/// trail: the change and its audit event commit together, and so does the
/// delivery they cause.
pub const EVENT_TYPES: &[EventType] = &[
    ev("workspace.created", "workspace.created", "A workspace was created."),
    ev(
        "workspace.updated",
        "workspace.updated",
        "A workspace's name, slug, description, time zone or language changed.",
    ),
    ev("workspace.suspended", "workspace.suspended", "A workspace was suspended, with the reason (WS-7)."),
    ev("workspace.reactivated", "workspace.reactivated", "A suspended workspace is active again."),
    ev("workspace.archived", "workspace.archived", "A workspace was archived."),
    ev("workspace.restored", "workspace.restored", "An archived workspace was restored."),
    ev("workspace.deleted", "workspace.deleted", "A workspace was deleted with everything it held."),
    ev("user.invited", "user.invited", "Someone was invited to the organization."),
    ev("user.joined", "invitation.accepted", "An invited person accepted and joined."),
    ev("user.role_changed", "user.role_changed", "A person's organization role changed."),
    ev("user.deactivated", "user.deactivated", "A person's account was deactivated."),
    ev("user.reactivated", "user.reactivated", "A deactivated account was reactivated."),
    ev("user.removed", "user.deleted", "A person was removed from the organization."),
    ev("api_key.created", "api_key.created", "An API key was created."),
    ev("api_key.revoked", "api_key.revoked", "An API key was revoked."),
    ev("security.settings_updated", "security.settings_updated", "The organization's security settings changed."),
    ev("webhook.created", "webhook.created", "A webhook endpoint was added."),
    ev("webhook.updated", "webhook.updated", "A webhook endpoint was changed, enabled or disabled."),
    ev("webhook.deleted", "webhook.deleted", "A webhook endpoint was removed."),
    ev("credits.granted", "credits.granted", "Credits were granted to the organization."),
    ev("credits.low", "credits.low", "The credit balance fell to or below an alert threshold."),
    ev("credits.depleted", "credits.depleted", "The credit balance reached zero."),
    // Sent only by Test (`POST /webhooks/{id}/test`), never by a change.
    ev(TEST_EVENT, "", "A test event, sent when someone presses Test."),
];

/// The event type of a delivery made by Test.
pub const TEST_EVENT: &str = "webhook.test";

/// The webhook event an audit action is sent as, if any.
pub fn event_for(action: &str) -> Option<&'static EventType> {
    EVENT_TYPES.iter().find(|e| !e.action.is_empty() && e.action == action)
}

pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.iter().any(|e| e.name == name)
}

/// The pause before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
/// (Svix's schedule). `attempt` is the one that just failed, from 1; `None`
/// after the last.
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    const SCHEDULE: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
    SCHEDULE.get(attempt.checked_sub(1)? as usize).map(|s| Duration::from_secs(*s))
}

/// `delay` moved by up to ±20 %, so endpoints that fail together don't all
/// come back at once. `unit` is a random number in [0, 1).
pub fn jittered(delay: Duration, unit: f64) -> Duration {
    delay.mul_f64(0.8 + 0.4 * unit.clamp(0.0, 1.0))
}

/// `delay` with a random jitter (see [`jittered`]).
pub fn with_jitter(delay: Duration) -> Duration {
    jittered(delay, rand::random::<f64>())
}

/// Whether a delivery may connect to `ip`: a public unicast address. Refused:
/// loopback, private, link-local, CGNAT, multicast, broadcast, documentation,
/// benchmarking, reserved, unspecified, IPv6 unique-local and link-local, and
/// IPv4 addresses written as IPv6 (mapped, compatible, NAT64).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let refused = v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64
                || (s[..6] == [0; 6]); // IPv4-compatible ::a.b.c.d
            !refused
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240; // reserved
    !refused
}

/// Whether `ip` is this machine (what `webhooks_allow_private` opens up, for
/// development and tests).
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// An endpoint URL: `https://` with a host and no credentials, at most 2,000
/// characters; `http://` only when private targets are allowed (development).
pub fn endpoint_url(field: &str, value: &str, allow_private: bool) -> Result<String> {
    let v = value.trim();
    if v.len() > URL_MAX {
        return Err(Error::field(field, &rule::TOO_LONG, &[("max", &URL_MAX)]));
    }
    let parsed = url::Url::parse(v).map_err(|_| Error::field(field, &rule::INVALID_WEBHOOK_URL, &[]))?;
    let scheme_ok = parsed.scheme() == "https" || (allow_private && parsed.scheme() == "http");
    if !scheme_ok || parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::field(field, &rule::INVALID_WEBHOOK_URL, &[]));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::field(field, &rule::CREDENTIALS_IN_URL, &[]));
    }
    Ok(parsed.to_string())
}

/// A literal address in an endpoint's host, in any spelling a resolver would
/// accept (`2130706433`, `0177.0.0.1`), so it is checked like a resolved one.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    // inet_aton forms: one to four parts, each decimal, octal (0…) or hex (0x…).
    let parts: Vec<u64> = host.split('.').map(parse_aton_part).collect::<Option<_>>()?;
    let value = match parts.as_slice() {
        [a] => *a,
        [a, b] if *a < 256 && *b < (1 << 24) => (a << 24) | b,
        [a, b, c] if *a < 256 && *b < 256 && *c < (1 << 16) => (a << 24) | (b << 16) | c,
        [a, b, c, d] if [a, b, c, d].iter().all(|p| **p < 256) => (a << 24) | (b << 16) | (c << 8) | d,
        _ => return None,
    };
    u32::try_from(value).ok().map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

fn parse_aton_part(p: &str) -> Option<u64> {
    if p.is_empty() {
        return None;
    }
    if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if p.len() > 1 && p.starts_with('0') {
        return u64::from_str_radix(&p[1..], 8).ok();
    }
    p.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_test_vector_signs_to_its_signature() {
        let key = secret_key("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            sign(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        let both = signature_header(&[key.clone(), key], "m", 1, b"{}");
        assert_eq!(both.split(' ').count(), 2);
    }

    #[test]
    fn new_secrets_decode_to_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a != b);
        assert_eq!(secret_key(&a).unwrap().len(), 32);
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
            "ff02::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(bad.parse().unwrap()), "{bad} should be refused");
        }
        for good in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(is_public(good.parse().unwrap()), "{good} is public");
        }
    }

    #[test]
    fn every_spelling_of_an_address_is_read() {
        for (host, ip) in [
            ("2130706433", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ] {
            assert_eq!(literal_ip(host), Some(ip.parse().unwrap()), "{host}");
        }
        assert_eq!(literal_ip("hooks.example.com"), None);
    }

    #[test]
    fn urls_are_https_without_credentials() {
        assert!(endpoint_url("url", "https://hooks.example.com/in", false).is_ok());
        for bad in ["ftp://x.example", "http://hooks.example.com", "https://user:pw@x.example/", "not a url"] {
            assert!(endpoint_url("url", bad, false).is_err(), "{bad}");
        }
        assert!(endpoint_url("url", "http://127.0.0.1:9/x", true).is_ok());
        let long = format!("https://x.example/{}", "a".repeat(2000));
        assert_eq!(endpoint_url("url", &long, false).unwrap_err().errors[0].code, "too_long");
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        assert_eq!(retry_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(7), Some(Duration::from_secs(36_000)));
        assert_eq!(retry_delay(8), None);
        let d = jittered(Duration::from_secs(100), 0.999);
        assert!(d <= Duration::from_secs(120) && jittered(Duration::from_secs(100), 0.0) == Duration::from_secs(80));
    }

    #[test]
    fn every_event_type_comes_from_an_audit_action() {
        for e in EVENT_TYPES {
            assert!(crate::audit::ACTIONS.contains(&e.action) || e.name == "webhook.test", "{}", e.name);
        }
    }
}
