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
    "audit.exported",
    "campaign.created",
    "campaign.updated",
    "connection.created",
    "connection.deleted",
    "connection.updated",
    "content.created",
    "content.deleted",
    "content.updated",
    "demo.seeded",
    "invitation.accepted",
    "media.deleted",
    "media.uploaded",
    "organization.created",
    "organization.logo_removed",
    "organization.logo_updated",
    "organization.updated",
    "security.settings_updated",
    "session.created",
    "session.ended",
    "session.failed",
    "session.locked",
    "session.reauthenticated",
    "two_factor.disabled",
    "two_factor.enabled",
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

/// The groups of actions (`workspace`, `user`, …), for filtering by type.
pub fn action_groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = ACTIONS.iter().filter_map(|a| a.split('.').next()).collect();
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
