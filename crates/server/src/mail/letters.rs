//! What each message says. A letter is the data a use case knows when it
//! posts it; [`Letter::compose`] turns it into sentences when the mail job
//! runs, with the organization's name. Each one says what happened and what
//! to do if it wasn't the reader.

use serde::{Deserialize, Serialize};
use steward_core::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Letter {
    /// Someone was invited (or the invitation was sent again).
    Invitation { invited_by: Option<String>, expires_at: Timestamp, resent: bool },
    /// The first Super Admin of an organization made with `steward org create`.
    SetPassword { expires_at: Timestamp },
    /// A Super Admin removed the reader's two-factor authentication.
    TwoFactorReset { by: String },
    /// A Super Admin ended every session of the reader.
    SignedOutEverywhere { by: String },
    /// The reader signed in from a browser or device not seen before.
    NewSignIn { at: Timestamp, ip: Option<String>, device: String },
    /// A webhook endpoint was turned off by Steward (410 Gone, or failing for days).
    WebhookDisabled { url: String, reason: String },
    /// The credit balance fell to an alert's threshold (or to zero).
    CreditsLow { balance: i64, threshold: String },
}

/// A letter in words: what the templates lay out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub subject: String,
    pub heading: String,
    pub paragraphs: Vec<String>,
    /// The button (HTML) or the link on its own line (text).
    pub action: Action,
    /// What to do if this wasn't the reader's doing.
    pub not_you: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub label: String,
    pub url: String,
}

impl Letter {
    /// Its name in metrics and logs.
    pub fn template(&self) -> &'static str {
        match self {
            Letter::Invitation { .. } => "invitation",
            Letter::SetPassword { .. } => "set_password",
            Letter::TwoFactorReset { .. } => "two_factor_reset",
            Letter::SignedOutEverywhere { .. } => "signed_out_everywhere",
            Letter::NewSignIn { .. } => "new_sign_in",
            Letter::WebhookDisabled { .. } => "webhook_disabled",
            Letter::CreditsLow { .. } => "credits_low",
        }
    }

    /// The words of the letter for `org` (the organization's name); `link` is
    /// where its button goes.
    pub fn compose(&self, org: &str, link: &str) -> Content {
        let action = |label: &str| Action { label: label.to_owned(), url: link.to_owned() };
        let ask_admin = format!("a Super Admin of {org}");
        match self {
            Letter::Invitation { invited_by, expires_at, resent } => {
                let who = invited_by.as_deref().map(|b| format!("{b} invited you")).unwrap_or("You are invited".into());
                Content {
                    subject: format!("You're invited to join {org} on Steward"),
                    heading: format!("Join {org}"),
                    paragraphs: vec![
                        format!("{who} to join {org} on Steward. Open the link to choose your password and sign in."),
                        format!(
                            "The link works once, until {}.{}",
                            when(*expires_at),
                            if *resent { " Links sent to you earlier no longer work." } else { "" }
                        ),
                    ],
                    action: action("Accept the invitation"),
                    not_you: "If you did not expect this invitation, ignore this message: nothing happens unless the link is opened and a password chosen.".into(),
                }
            }
            Letter::SetPassword { expires_at } => Content {
                subject: format!("Set your password for {org} on Steward"),
                heading: format!("{org} is ready"),
                paragraphs: vec![
                    format!("The organization {org} was created on Steward with you as its Super Admin. Open the link to choose your password."),
                    format!("The link works once, until {}.", when(*expires_at)),
                ],
                action: action("Set your password"),
                not_you: "If you did not ask for this organization, ignore this message and tell whoever runs this Steward deployment.".into(),
            },
            Letter::TwoFactorReset { by } => Content {
                subject: format!("Your two-factor authentication for {org} was reset"),
                heading: "Two-factor authentication was reset".into(),
                paragraphs: vec![
                    format!("{by} removed the two-factor authentication from your {org} account, and your sessions were ended. You can sign in with your password alone now."),
                    "Set up two-factor authentication again from your account page after you sign in.".into(),
                ],
                action: action("Sign in"),
                not_you: format!("If you did not ask for this, your account may be at risk: tell {ask_admin} at once and change your password."),
            },
            Letter::SignedOutEverywhere { by } => Content {
                subject: format!("You were signed out of {org} everywhere"),
                heading: "You were signed out everywhere".into(),
                paragraphs: vec![format!(
                    "{by}, a Super Admin of {org}, ended all your sessions: every browser and device signed in to your account was signed out. Sign in again to continue."
                )],
                action: action("Sign in"),
                not_you: format!("If you don't know why, ask {ask_admin}; if you think someone else knows your password, change it after you sign in."),
            },
            Letter::NewSignIn { at, ip, device } => Content {
                subject: format!("New sign-in to your {org} account"),
                heading: "A new sign-in to your account".into(),
                paragraphs: vec![
                    format!(
                        "Your {org} account was signed in to from a browser or device not used before, on {}{}.",
                        when(*at),
                        ip.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default()
                    ),
                    format!("Device: {device}"),
                    "If this was you, there is nothing to do.".into(),
                ],
                action: action("Review your sessions"),
                not_you: format!("If this wasn't you, sign out that session from your account page, change your password, and tell {ask_admin}."),
            },
            Letter::WebhookDisabled { url, reason } => Content {
                subject: format!("A webhook endpoint of {org} was turned off"),
                heading: "A webhook endpoint was turned off".into(),
                paragraphs: vec![
                    format!("Steward stopped sending events to {url}: {reason}"),
                    "Fix the receiver, then enable the endpoint again under Integrations → Webhooks and send the failed deliveries again with Recover.".into(),
                ],
                action: action("Open Webhooks"),
                not_you: format!("If the endpoint is no longer needed, delete it. You get this as a Super Admin of {org}."),
            },
            Letter::CreditsLow { balance, threshold } => Content {
                subject: if *balance == 0 {
                    format!("{org} has run out of credits")
                } else {
                    format!("{org} has {balance} credits left")
                },
                heading: "Credits are running low".into(),
                paragraphs: vec![
                    format!("The balance is {balance} credits: it reached the alert you set at {threshold}."),
                    "When it reaches zero, the platform's services can no longer debit credits and campaigns that need them stop. Ask the platform operator for more credits, or look at which workspaces use them under Billing → Credits.".into(),
                ],
                action: action("Open Credits"),
                not_you: format!("If the alert no longer helps, change or remove it under Billing → Credits. You get this as a Super Admin of {org}."),
            },
        }
    }
}

/// A time as people read it in mail: `2026-12-04 10:38 UTC`.
fn when(t: Timestamp) -> String {
    let d = t.to_datetime();
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", d.year(), u8::from(d.month()), d.day(), d.hour(), d.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_says_what_to_do_if_it_was_not_you() {
        let at = Timestamp::from_millis(1_796_000_000_000);
        let letters = [
            Letter::Invitation { invited_by: Some("Ada".into()), expires_at: at, resent: true },
            Letter::SetPassword { expires_at: at },
            Letter::TwoFactorReset { by: "Ada".into() },
            Letter::SignedOutEverywhere { by: "Ada".into() },
            Letter::NewSignIn { at, ip: Some("203.0.113.9".into()), device: "Firefox".into() },
            Letter::WebhookDisabled {
                url: "https://hooks.example/in".into(),
                reason: "The receiver answered 410 Gone.".into(),
            },
            Letter::CreditsLow { balance: 40, threshold: "100 credits".into() },
        ];
        for l in letters {
            let c = l.compose("Acme", "https://s.example/x");
            assert!(c.subject.contains("Acme"), "{}: {}", l.template(), c.subject);
            assert!(c.not_you.starts_with("If "), "{}", l.template());
            assert_eq!(c.action.url, "https://s.example/x");
        }
        let c = Letter::NewSignIn { at, ip: Some("203.0.113.9".into()), device: "Firefox".into() }.compose("Acme", "u");
        assert!(c.paragraphs[0].contains("2026-11-30") && c.paragraphs[0].contains("from 203.0.113.9"), "{c:?}");
    }
}
