//! Every permission of the mission, in one list: what it allows, whether an API
//! key may hold it, and which roles hold it. [`crate::authz::check`] is the one
//! place that decides whether a principal has one.

use serde::Serialize;

/// Who holds a permission by role (API keys hold what they were given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// An organization's Super Admin, everywhere in it.
    SuperAdmin,
    /// A member's workspace role, in that workspace only.
    WorkspaceAdmin,
    WorkspaceEditor,
    WorkspaceViewer,
    /// Whoever runs the deployment (the CLI, the operator console).
    Operator,
    /// Background jobs of the deployment.
    System,
}

impl Holder {
    pub fn as_str(self) -> &'static str {
        match self {
            Holder::SuperAdmin => "super_admin",
            Holder::WorkspaceAdmin => "workspace_admin",
            Holder::WorkspaceEditor => "workspace_editor",
            Holder::WorkspaceViewer => "workspace_viewer",
            Holder::Operator => "operator",
            Holder::System => "system",
        }
    }
}

macro_rules! permissions {
    ($($variant:ident = $name:literal, key: $key:literal, [$($holder:ident),*], $desc:literal;)+) => {
        /// A named permission (`people:write`). Stored and sent as its name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission { $($variant),+ }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name),+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $desc),+ }
            }

            /// Operator permissions act across organizations: no key may hold them.
            pub fn key_assignable(self) -> bool {
                match self { $(Permission::$variant => $key),+ }
            }

            /// The roles that hold it (besides keys that were given it).
            pub fn holders(self) -> &'static [Holder] {
                match self { $(Permission::$variant => &[$(Holder::$holder),*]),+ }
            }
        }
    };
}

permissions! {
    OrganizationRead = "organization:read", key: true, [SuperAdmin, Operator, System],
        "See the organization's details, logo and dashboard.";
    OrganizationWrite = "organization:write", key: true, [SuperAdmin, Operator, System],
        "Change the organization's details and logo.";
    PeopleRead = "people:read", key: true, [SuperAdmin, Operator, System],
        "List the organization's people, their roles and their status.";
    PeopleWrite = "people:write", key: true, [SuperAdmin, Operator, System],
        "Invite people, change their roles and status, remove them, sign them out, reset their 2FA.";
    WorkspacesRead = "workspaces:read", key: true,
        [SuperAdmin, WorkspaceAdmin, WorkspaceEditor, WorkspaceViewer, Operator, System],
        "See workspaces and what they hold: campaigns, content, connections, media, members.";
    WorkspacesWrite = "workspaces:write", key: true, [SuperAdmin, WorkspaceAdmin, Operator, System],
        "Create workspaces; change a workspace's settings, members, connections and media.";
    WorkspacesLifecycle = "workspaces:lifecycle", key: true, [SuperAdmin, Operator, System],
        "Suspend, reactivate, archive, restore and delete workspaces.";
    ContentWrite = "content:write", key: true, [SuperAdmin, WorkspaceAdmin, WorkspaceEditor, Operator, System],
        "Create and change a workspace's campaigns and content items.";
    SecurityRead = "security:read", key: true, [SuperAdmin, Operator, System],
        "See the password policy, session timeouts and two-factor mode.";
    SecurityWrite = "security:write", key: true, [SuperAdmin, Operator, System],
        "Change the password policy, session timeouts and two-factor mode.";
    AuditRead = "audit:read", key: true, [SuperAdmin, Operator, System],
        "Read the audit trail.";
    AuditExport = "audit:export", key: true, [SuperAdmin, Operator, System],
        "Export the audit trail as CSV or JSON Lines.";
    ApiKeysRead = "api_keys:read", key: true, [SuperAdmin, Operator, System],
        "List the organization's API keys (never their secrets).";
    ApiKeysWrite = "api_keys:write", key: true, [SuperAdmin, Operator, System],
        "Create and revoke API keys.";
    WebhooksRead = "webhooks:read", key: true, [SuperAdmin, Operator, System],
        "See webhook endpoints and their delivery log.";
    WebhooksWrite = "webhooks:write", key: true, [SuperAdmin, Operator, System],
        "Add, change, test and remove webhook endpoints.";
    CreditsRead = "credits:read", key: true, [SuperAdmin, Operator, System],
        "See the credit balance, the ledger and usage.";
    CreditsDebit = "credits:debit", key: true, [SuperAdmin, Operator, System],
        "Debit credits for usage (the platform's services).";
    CreditsGrant = "operator:credits", key: false, [Operator, System],
        "Add credits to an organization (the platform operator's: Super Admins cannot mint credits).";
    CreditsAlerts = "credits:alerts", key: true, [SuperAdmin, Operator, System],
        "Set the credit alert thresholds.";
    CreditsBudgets = "credits:budgets", key: true, [SuperAdmin, Operator, System],
        "Set workspaces' monthly credit budgets.";
    BillingRead = "billing:read", key: true, [SuperAdmin, Operator, System],
        "See the plan, payment methods, invoices and usage reports.";
    ReportsCreate = "reports:create", key: true, [SuperAdmin, Operator, System],
        "Ask for usage reports (reading them takes billing:read).";
    BillingWrite = "billing:write", key: true, [SuperAdmin, Operator, System],
        "Change the plan and payment methods.";
    LimitsRead = "limits:read", key: true, [SuperAdmin, Operator, System],
        "See the plan's limits and current usage.";
    LimitsRequest = "limits:request", key: true, [SuperAdmin, Operator, System],
        "Ask the platform operator for a higher limit.";
    DataExport = "data:export", key: true, [SuperAdmin, Operator, System],
        "Export the organization's data.";
    DataDelete = "data:delete", key: true, [SuperAdmin, Operator, System],
        "Request deletion of the organization's data and set retention policies.";
    SsoRead = "sso:read", key: true, [SuperAdmin, Operator, System],
        "See the single sign-on configuration.";
    SsoWrite = "sso:write", key: true, [SuperAdmin, Operator, System],
        "Configure, test and enable single sign-on.";
    OrganizationsManage = "operator:organizations", key: false, [Operator, System],
        "Create organizations and list every organization of the deployment.";
    AuditPurge = "operator:audit_purge", key: false, [Operator, System],
        "Purge audit events past retention and verify audit chains.";
    LimitsDecide = "operator:limits", key: false, [Operator, System],
        "Approve or decline limit increase requests; change an organization's limits.";
    PlansWrite = "operator:plans", key: false, [Operator, System],
        "Manage the plan catalog and organizations' plans.";
    DeletionsProcess = "operator:deletions", key: false, [Operator, System],
        "Process data deletion requests.";
    JobsManage = "operator:jobs", key: false, [Operator, System],
        "See, retry and cancel background jobs.";
}

impl Permission {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }

    pub fn held_by(self, holder: Holder) -> bool {
        self.holders().contains(&holder)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// A set of permissions, one bit each: checking one is a mask, not a search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn of(list: &[Permission]) -> Self {
        PermissionSet(list.iter().fold(0, |acc, p| acc | p.bit()))
    }

    /// Every permission this holder has by role.
    pub fn of_holder(holder: Holder) -> Self {
        PermissionSet(Permission::ALL.iter().filter(|p| p.held_by(holder)).fold(0, |acc, p| acc | p.bit()))
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | p.bit())
    }

    pub fn union(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.iter().copied().filter(move |p| self.contains(*p))
    }
}

/// The bundles existing keys were made with: `admin` is every permission a key
/// may hold, `read` every `…:read` one.
pub const BUNDLES: [&str; 2] = ["admin", "read"];

pub fn bundle(name: &str) -> Option<PermissionSet> {
    let keyable = Permission::ALL.iter().copied().filter(|p| p.key_assignable());
    match name {
        "admin" => Some(PermissionSet::of(&keyable.collect::<Vec<_>>())),
        "read" => Some(PermissionSet::of(&keyable.filter(|p| p.name().ends_with(":read")).collect::<Vec<_>>())),
        _ => None,
    }
}

/// Why a name can't be given to an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyGrantError {
    Unknown,
    OperatorOnly,
}

/// What one entry of an API key's `scopes` stands for: a bundle or a permission.
pub fn for_key(name: &str) -> Result<PermissionSet, KeyGrantError> {
    if let Some(set) = bundle(name) {
        return Ok(set);
    }
    match Permission::parse(name) {
        Some(p) if p.key_assignable() => Ok(PermissionSet::of(&[p])),
        Some(_) => Err(KeyGrantError::OperatorOnly),
        None => Err(KeyGrantError::Unknown),
    }
}

/// The permissions a stored list of scopes grants; unknown names (none are
/// ever stored) grant nothing.
pub fn expand(scopes: &[String]) -> PermissionSet {
    scopes.iter().filter_map(|s| for_key(s).ok()).fold(PermissionSet::EMPTY, PermissionSet::union)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
        assert!(Permission::ALL.len() <= 64, "a PermissionSet holds 64");
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(*p));
            assert!(!p.description().is_empty());
        }
    }

    #[test]
    fn bundles_match_their_definition() {
        let admin = bundle("admin").unwrap();
        let read = bundle("read").unwrap();
        assert!(admin.contains(Permission::PeopleWrite) && !admin.contains(Permission::OrganizationsManage));
        assert!(read.contains(Permission::AuditRead) && !read.contains(Permission::AuditExport));
        assert_eq!(read.iter().count(), Permission::ALL.iter().filter(|p| p.name().ends_with(":read")).count());
        assert_eq!(for_key("operator:organizations"), Err(KeyGrantError::OperatorOnly));
        assert_eq!(for_key("people:delete"), Err(KeyGrantError::Unknown));
        let set = expand(&["people:read".into(), "audit:read".into()]);
        assert!(set.contains(Permission::PeopleRead) && !set.contains(Permission::PeopleWrite));
    }

    #[test]
    fn workspace_roles_nest() {
        let viewer = PermissionSet::of_holder(Holder::WorkspaceViewer);
        let editor = PermissionSet::of_holder(Holder::WorkspaceEditor);
        let admin = PermissionSet::of_holder(Holder::WorkspaceAdmin);
        assert!(viewer.iter().all(|p| editor.contains(p)) && editor.iter().all(|p| admin.contains(p)));
        assert!(!admin.contains(Permission::WorkspacesLifecycle));
    }
}
