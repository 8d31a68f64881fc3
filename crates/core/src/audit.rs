//! What an audit event says about a change: the action name and, for updates,
//! each changed field with its value before and after.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// Changed fields as `{"field": {"before": …, "after": …}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` only when its value really changed.
    pub fn field<T: Serialize + PartialEq>(&mut self, field: &str, before: &T, after: &T) -> &mut Self {
        if before != after {
            self.0.insert(field.to_owned(), json!({ "before": before, "after": after }));
        }
        self
    }

    /// Records a field that was set where there was nothing before (creation).
    pub fn created<T: Serialize>(&mut self, field: &str, after: &T) -> &mut Self {
        self.0.insert(field.to_owned(), json!({ "before": null, "after": after }));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// Every action the audit trail records (docs/audit-events.md describes each).
/// Filters refuse names outside this list; a test keeps it complete.
pub const ACTIONS: &[&str] = &[
    "api_key.created",
    "api_key.revoked",
    "api_key.updated",
    "audit.exported",
    "audit.purged",
    "campaign.created",
    "campaign.updated",
    "connection.created",
    "connection.deleted",
    "connection.updated",
    "content.created",
    "content.deleted",
    "content.updated",
    "credits.adjusted",
    "credits.alerts_updated",
    "credits.budget_set",
    "credits.depleted",
    "credits.granted",
    "credits.low",
    "credits.refunded",
    "demo.seeded",
    "invitation.accepted",
    "media.deleted",
    "media.uploaded",
    "organization.created",
    "organization.limits_changed",
    "organization.logo_removed",
    "organization.logo_updated",
    "organization.updated",
    "report.expired",
    "report.failed",
    "report.generated",
    "report.requested",
    "security.settings_updated",
    "session.created",
    "session.ended",
    "session.failed",
    "session.locked",
    "session.reauthenticated",
    "two_factor.disabled",
    "two_factor.enabled",
    "two_factor.enrollment_started",
    "two_factor.recovery_codes_regenerated",
    "two_factor.reset",
    "user.created",
    "user.deactivated",
    "user.deleted",
    "user.invitation_resent",
    "user.invited",
    "user.password_changed",
    "user.reactivated",
    "user.role_changed",
    "user.sessions_ended",
    "user.updated",
    "webhook.created",
    "webhook.deleted",
    "webhook.resent",
    "webhook.secret_rotated",
    "webhook.tested",
    "webhook.updated",
    "workspace.archived",
    "workspace.created",
    "workspace.deleted",
    "workspace.member_added",
    "workspace.member_removed",
    "workspace.member_role_changed",
    "workspace.reactivated",
    "workspace.restored",
    "workspace.suspended",
    "workspace.updated",
];

/// The part of an event the hash chain covers. The actor's name, the IP and the
/// user agent are left out so personal data can later be erased without
/// breaking the chain; everything that says what happened is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained<'a> {
    pub org_id: &'a str,
    pub seq: i64,
    pub occurred_at_ms: i64,
    pub action: &'a str,
    pub actor_type: &'a str,
    pub actor_id: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub workspace_id: Option<&'a str>,
    /// `changes` and `metadata` exactly as stored (JSON text).
    pub changes: Option<&'a str>,
    pub metadata: Option<&'a str>,
}

impl Chained<'_> {
    /// `hash = SHA-256(prev_hash ‖ canonical event)`, hex. Fields are
    /// length-prefixed so no two events share a canonical form.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut canonical = String::new();
        let mut field = |v: Option<&str>| match v {
            Some(s) => canonical.push_str(&format!("{}:{s};", s.len())),
            None => canonical.push_str("-;"),
        };
        field(Some(self.org_id));
        field(Some(&self.seq.to_string()));
        field(Some(&self.occurred_at_ms.to_string()));
        field(Some(self.action));
        field(Some(self.actor_type));
        field(self.actor_id);
        field(self.target_type);
        field(self.target_id);
        field(self.workspace_id);
        field(self.changes);
        field(self.metadata);
        crate::tokens::hash_secret(&format!("{prev_hash}\n{canonical}"))
    }
}

/// The group an action belongs to: its first segment (`workspace.suspended` → `workspace`).
pub fn group_of(action: &str) -> &str {
    action.split('.').next().unwrap_or(action)
}

/// The groups of actions (`workspace`, `user`, …), for filtering by type.
pub fn action_groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = ACTIONS.iter().map(|a| group_of(a)).collect();
    groups.dedup();
    groups
}

/// Target kinds that audit events name.
pub mod target {
    pub const ORGANIZATION: &str = "organization";
    pub const USER: &str = "user";
    pub const SESSION: &str = "session";
    pub const API_KEY: &str = "api_key";
    pub const INVITATION: &str = "invitation";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_changes_are_recorded() {
        let mut c = Changes::new();
        c.field("name", &"Acme", &"Acme Inc").field("slug", &"acme", &"acme");
        assert!(c.contains("name"));
        assert!(!c.contains("slug"));
        assert_eq!(c.into_value(), json!({"name": {"before": "Acme", "after": "Acme Inc"}}));
    }
}

#[cfg(test)]
mod chain_tests {
    use super::Chained;

    #[test]
    fn the_hash_covers_what_happened_and_links_to_the_previous() {
        let e = Chained {
            org_id: "org_1",
            seq: 1,
            occurred_at_ms: 1000,
            action: "user.invited",
            actor_type: "user",
            actor_id: Some("usr_1"),
            target_type: Some("user"),
            target_id: Some("usr_2"),
            workspace_id: None,
            changes: Some("{}"),
            metadata: None,
        };
        let h = e.hash("");
        assert_eq!(h.len(), 64);
        assert_ne!(h, e.hash("abc"), "the previous hash is part of it");
        assert_ne!(h, Chained { action: "user.deleted", ..e.clone() }.hash(""));
        assert_ne!(h, Chained { seq: 2, ..e.clone() }.hash(""));
        // Field boundaries matter: moving a character between fields changes the hash.
        assert_ne!(
            Chained { target_type: Some("ab"), target_id: Some("c"), ..e.clone() }.hash(""),
            Chained { target_type: Some("a"), target_id: Some("bc"), ..e.clone() }.hash("")
        );
    }
}
