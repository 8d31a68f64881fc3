//! Browsers and devices people sign in from, told apart by their user agent:
//! a short description for people ("Firefox on Linux"), and a key to
//! recognise the same one next time.

use crate::tokens::hash_secret;

/// "Firefox on Linux", "Chrome on Android", …; the raw text (shortened) when
/// it names no browser this knows.
pub fn describe(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else {
        return "an unnamed client".into();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari.
    let browser =
        [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
            .iter()
            .find(|(token, _)| ua.contains(token))
            .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, _) => ua.chars().take(80).collect(),
    }
}

/// The same for the same user agent, and not the user agent itself.
pub fn key(user_agent: Option<&str>) -> String {
    hash_secret(user_agent.map(str::trim).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_browsers() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(Some(firefox)), "Firefox on Linux");
        assert_eq!(describe(Some(edge)), "Edge on Windows");
        assert_eq!(describe(Some(safari)), "Safari on iPhone");
        assert_eq!(describe(Some("curl/8.5.0")), "curl/8.5.0");
        assert_eq!(describe(None), "an unnamed client");
        assert_eq!(key(Some(firefox)), key(Some(firefox)));
        assert_ne!(key(Some(firefox)), key(Some(edge)));
    }
}
