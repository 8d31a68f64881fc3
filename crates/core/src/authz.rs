//! Who is acting, and whether they may. A [`Principal`] is a person's session,
//! an API key, the platform operator or the system (a background job);
//! [`check`] is the one function that decides whether it holds a
//! [`Permission`] on a resource — the organization as a whole, or one workspace,
//! where a member's workspace role counts. Use cases, the console and the route
//! table all ask it.

use serde::Serialize;

use crate::ids::{ApiKeyId, OrgId, SessionId, UserId};
use crate::messages::problem;
use crate::people::OrgRole;
use crate::permissions::{Holder, Permission, PermissionSet, expand};
use crate::workspaces::{WorkspaceRole, WorkspaceStatus, suspended};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A signed-in person, through a console cookie or a bearer session token.
    Session { session_id: SessionId, user_id: UserId, role: OrgRole, email: String },
    /// An API key of the organization, with the permissions its scopes grant.
    ApiKey { key_id: ApiKeyId, name: String, scopes: Vec<String>, permissions: PermissionSet },
    /// Whoever runs the deployment: `cli` for the command line.
    Operator { name: String },
    /// A background job of the deployment, named for what it does (`retention`).
    System { job: &'static str },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The organization it acts in. Sessions and keys always have theirs; the
    /// operator and the system act in one only when they were pointed at it.
    pub org_id: Option<OrgId>,
    pub credential: Credential,
}

impl Principal {
    pub fn session(org: OrgId, session_id: SessionId, user_id: UserId, role: OrgRole, email: String) -> Self {
        Principal { org_id: Some(org), credential: Credential::Session { session_id, user_id, role, email } }
    }

    pub fn api_key(org: OrgId, key_id: ApiKeyId, name: String, scopes: Vec<String>) -> Self {
        let permissions = expand(&scopes);
        Principal { org_id: Some(org), credential: Credential::ApiKey { key_id, name, scopes, permissions } }
    }

    pub fn operator(name: &str) -> Self {
        Principal { org_id: None, credential: Credential::Operator { name: name.to_owned() } }
    }

    pub fn system(job: &'static str) -> Self {
        Principal { org_id: None, credential: Credential::System { job } }
    }

    /// The operator or the system pointed at one organization.
    pub fn in_org(mut self, org: OrgId) -> Self {
        if matches!(self.credential, Credential::Operator { .. } | Credential::System { .. }) {
            self.org_id = Some(org);
        }
        self
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.credential {
            Credential::Session { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    pub fn is_super_admin(&self) -> bool {
        matches!(&self.credential, Credential::Session { role: OrgRole::SuperAdmin, .. })
    }

    /// What it holds everywhere in its organization (workspace roles aside).
    pub fn permissions(&self) -> PermissionSet {
        match &self.credential {
            Credential::Session { role: OrgRole::SuperAdmin, .. } => PermissionSet::of_holder(Holder::SuperAdmin),
            Credential::Session { role: OrgRole::Member, .. } => PermissionSet::EMPTY,
            Credential::ApiKey { permissions, .. } => *permissions,
            Credential::Operator { .. } => PermissionSet::of_holder(Holder::Operator),
            Credential::System { .. } => PermissionSet::of_holder(Holder::System),
        }
    }

    /// How this principal appears in the audit trail.
    pub fn actor(&self) -> Actor {
        match &self.credential {
            Credential::Session { user_id, email, .. } => Actor::user(user_id, email),
            Credential::ApiKey { key_id, name, .. } => {
                Actor { kind: ActorKind::ApiKey, id: Some(key_id.to_string()), name: Some(name.clone()) }
            }
            Credential::Operator { name } => Actor { kind: ActorKind::Operator, id: None, name: Some(name.clone()) },
            Credential::System { job } => Actor::system(job),
        }
    }
}

/// What a permission is asked for.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// The principal's organization as a whole.
    Organization,
    /// One workspace of it, as it stands, with the caller's role there.
    Workspace { role: Option<WorkspaceRole>, status: WorkspaceStatus, reason: Option<&'a str> },
}

/// Whether `principal` holds `permission` on `resource`; when not, the problem
/// that says why and what to do (TROUBLE-1), naming the permission.
///
/// Organization-wide holders (Super Admins, keys, the operator, the system)
/// hold it in every workspace too. Members act by their workspace role: a
/// workspace they are not in, or an archived one, does not exist for them
/// (404); a suspended one refuses them with its reason (403).
pub fn check(principal: &Principal, permission: Permission, resource: Resource<'_>) -> Result<()> {
    if principal.permissions().contains(permission) {
        return Ok(());
    }
    match (resource, &principal.credential) {
        (Resource::Workspace { role, status, reason }, Credential::Session { .. }) => {
            let Some(role) = role else { return Err(Error::not_found("workspace")) };
            match status {
                WorkspaceStatus::Archived => return Err(Error::not_found("workspace")),
                WorkspaceStatus::Suspended => return Err(suspended(reason)),
                WorkspaceStatus::Active => {}
            }
            if PermissionSet::of_holder(role_holder(role)).contains(permission) {
                return Ok(());
            }
            let need = if permission.held_by(Holder::WorkspaceEditor) { "an editor or" } else { "a" };
            Err(Error::forbidden(
                &problem::WORKSPACE_ROLE_REQUIRED,
                &[("role", &role.as_str()), ("need", &need), ("permission", &permission)],
            )
            .with_extension("permission", permission.name()))
        }
        _ => Err(refusal(principal, permission)),
    }
}

/// [`check`] as a yes or no, for showing or hiding an action.
pub fn can(principal: &Principal, permission: Permission, resource: Resource<'_>) -> bool {
    check(principal, permission, resource).is_ok()
}

fn role_holder(role: WorkspaceRole) -> Holder {
    match role {
        WorkspaceRole::Admin => Holder::WorkspaceAdmin,
        WorkspaceRole::Editor => Holder::WorkspaceEditor,
        WorkspaceRole::Viewer => Holder::WorkspaceViewer,
    }
}

fn refusal(principal: &Principal, permission: Permission) -> Error {
    let kind = match &principal.credential {
        _ if !permission.key_assignable() => problem::OPERATOR_REQUIRED,
        Credential::ApiKey { .. } => problem::INSUFFICIENT_SCOPE,
        _ => problem::SUPER_ADMIN_REQUIRED,
    };
    Error::forbidden(&kind, &[("permission", &permission)]).with_extension("permission", permission.name())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    /// The platform operator (the CLI).
    Operator,
    /// A background job.
    System,
    /// Someone not signed in (a failed login, an invitation being accepted).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::Operator => "operator",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "user" => ActorKind::User,
            "api_key" => ActorKind::ApiKey,
            "operator" => ActorKind::Operator,
            "system" => ActorKind::System,
            _ => ActorKind::Anonymous,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor { kind: ActorKind::System, id: None, name: Some(name.to_owned()) }
    }

    pub fn anonymous() -> Self {
        Actor { kind: ActorKind::Anonymous, id: None, name: None }
    }

    pub fn user(id: &UserId, email: &str) -> Self {
        Actor { kind: ActorKind::User, id: Some(id.to_string()), name: Some(email.to_owned()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::bundle;

    fn session(role: OrgRole) -> Principal {
        Principal::session(OrgId::new(), SessionId::new(), UserId::new(), role, "a@example.com".into())
    }

    fn key(scopes: &[&str]) -> Principal {
        Principal::api_key(OrgId::new(), ApiKeyId::new(), "k".into(), scopes.iter().map(|s| s.to_string()).collect())
    }

    const ORG: Resource<'static> = Resource::Organization;

    fn ws(role: Option<WorkspaceRole>, status: WorkspaceStatus) -> Resource<'static> {
        Resource::Workspace { role, status, reason: Some("unpaid invoice") }
    }

    #[test]
    fn organization_permissions_by_kind() {
        assert!(can(&session(OrgRole::SuperAdmin), Permission::PeopleWrite, ORG));
        let member = check(&session(OrgRole::Member), Permission::PeopleRead, ORG).unwrap_err();
        assert_eq!((member.status, member.code), (403, "super_admin_required"));
        assert_eq!(member.extensions["permission"], "people:read");
        assert!(can(&key(&["read"]), Permission::AuditRead, ORG));
        let e = check(&key(&["read"]), Permission::PeopleWrite, ORG).unwrap_err();
        assert_eq!((e.code, e.extensions["permission"].as_str()), ("insufficient_scope", Some("people:write")));
        assert!(can(&key(&["admin"]), Permission::PeopleWrite, ORG));
        assert!(!can(&key(&[]), Permission::OrganizationRead, ORG));
        assert!(can(&key(&["people:write"]), Permission::PeopleWrite, ORG));
        assert!(!can(&key(&["people:write"]), Permission::PeopleRead, ORG));
    }

    #[test]
    fn operator_permissions_are_the_operators() {
        let e = check(&session(OrgRole::SuperAdmin), Permission::OrganizationsManage, ORG).unwrap_err();
        assert_eq!(e.code, "operator_required");
        assert!(!can(&key(&["admin"]), Permission::AuditPurge, ORG));
        assert!(can(&Principal::operator("cli"), Permission::OrganizationsManage, ORG));
        assert!(can(&Principal::system("retention"), Permission::AuditPurge, ORG));
        assert!(bundle("admin").unwrap().iter().all(|p| can(&Principal::operator("cli"), p, ORG)));
    }

    #[test]
    fn members_act_by_workspace_role() {
        use WorkspaceStatus::*;
        let m = session(OrgRole::Member);
        assert!(can(&m, Permission::WorkspacesRead, ws(Some(WorkspaceRole::Viewer), Active)));
        let e = check(&m, Permission::ContentWrite, ws(Some(WorkspaceRole::Viewer), Active)).unwrap_err();
        assert_eq!((e.code, e.extensions["permission"].as_str()), ("workspace_role_required", Some("content:write")));
        assert!(can(&m, Permission::ContentWrite, ws(Some(WorkspaceRole::Editor), Active)));
        assert!(!can(&m, Permission::WorkspacesWrite, ws(Some(WorkspaceRole::Editor), Active)));
        assert!(can(&m, Permission::WorkspacesWrite, ws(Some(WorkspaceRole::Admin), Active)));
        // Lifecycle steps are organization-wide work, whatever the workspace role.
        assert!(!can(&m, Permission::WorkspacesLifecycle, ws(Some(WorkspaceRole::Admin), Active)));
        let e = check(&m, Permission::WorkspacesRead, ws(Some(WorkspaceRole::Admin), Suspended)).unwrap_err();
        assert_eq!((e.status, e.code), (403, "workspace_suspended"));
        assert!(e.detail.contains("unpaid invoice"));
        assert_eq!(
            check(&m, Permission::WorkspacesRead, ws(Some(WorkspaceRole::Admin), Archived)).unwrap_err().status,
            404
        );
        assert_eq!(check(&m, Permission::WorkspacesRead, ws(None, Active)).unwrap_err().status, 404);
    }

    #[test]
    fn organization_wide_holders_reach_every_workspace() {
        use WorkspaceStatus::*;
        assert!(can(&session(OrgRole::SuperAdmin), Permission::WorkspacesWrite, ws(None, Archived)));
        assert!(can(&key(&["read"]), Permission::WorkspacesRead, ws(None, Suspended)));
        assert_eq!(
            check(&key(&["read"]), Permission::ContentWrite, ws(None, Active)).unwrap_err().code,
            "insufficient_scope"
        );
    }

    #[test]
    fn actors_name_their_kind() {
        assert_eq!(Principal::operator("cli").actor().kind.as_str(), "operator");
        assert_eq!(Principal::system("retention").actor().name.as_deref(), Some("retention"));
        assert_eq!(key(&["read"]).actor().kind, ActorKind::ApiKey);
        assert_eq!(ActorKind::parse("operator"), ActorKind::Operator);
    }
}
