//! Use cases: plain async functions that check the caller's permission, run one
//! transaction that changes data *and* appends its audit event, and return a
//! typed result. The API and the console both call them; neither holds rules.

pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod connections;
pub mod content;
pub mod credits;
pub mod dashboard;
pub mod demo;
pub mod invitations;
pub mod jobs;
pub mod logo;
pub mod media;
pub mod organizations;
pub mod people;
pub mod reports;
pub mod security;
pub mod sessions;
pub mod setup;
pub mod two_factor;
pub mod webhooks;
pub mod workspaces;

use serde_json::Value;
use steward_core::Result;
use steward_core::authz::{Actor, Principal};
use steward_core::ids::{OrgId, WorkspaceId};
use steward_core::permissions::Permission;
use steward_core::time::Timestamp;
use steward_store::Conn;
use steward_store::audit::NewEvent;
use steward_store::scope::{self, OrgScope, WorkspaceAccess, WorkspaceScope};

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Who acts, from where, and when: what every use case takes, whether the
/// API, the console, the CLI or a job calls it.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub meta: RequestMeta,
    pub now: Timestamp,
    /// Who the principal is, when authentication already read it.
    pub identity: Option<std::sync::Arc<people::Identity>>,
}

impl Ctx {
    /// The platform operator at the command line.
    pub fn operator(now: Timestamp) -> Self {
        Ctx { principal: Principal::operator("cli"), meta: RequestMeta::default(), now, identity: None }
    }

    /// A background job, named for what it does.
    pub fn system(job: &'static str, now: Timestamp) -> Self {
        Ctx { principal: Principal::system(job), meta: RequestMeta::default(), now, identity: None }
    }

    /// The operator or the system pointed at one organization.
    pub fn in_org(mut self, org: &OrgId) -> Self {
        self.principal = self.principal.in_org(org.clone());
        self.identity = None;
        self
    }

    /// The person acting, as a letter names them: their name, else their
    /// email; `None` for a key, the operator or the system.
    pub fn person_name(&self) -> Option<String> {
        let steward_core::authz::Credential::Session { email, .. } = &self.principal.credential else { return None };
        let name = self.identity.as_ref().and_then(|i| i.user.as_ref()).map(|u| u.name.clone());
        Some(name.unwrap_or_else(|| email.clone()))
    }

    /// The use case's one permission, on the organization: its scope, or the
    /// problem that names what is missing.
    pub fn authorize(&self, permission: Permission) -> Result<OrgScope> {
        scope::organization(&self.principal, permission)
    }

    /// A permission over the whole deployment (the operator's and the
    /// system's), asked before any organization is chosen.
    pub fn authorize_deployment(&self, permission: Permission) -> Result<()> {
        steward_core::authz::check(&self.principal, permission, steward_core::authz::Resource::Organization)
    }

    /// The caller's organization with no permission asked: for one's own
    /// account, and before [`Ctx::workspace`] asks on the workspace.
    pub fn org(&self) -> Result<OrgScope> {
        OrgScope::of(&self.principal)
    }

    /// A workspace of the caller's organization, with `permission` checked on
    /// it (workspace roles count there).
    pub async fn workspace(&self, c: &mut Conn, id: &WorkspaceId, permission: Permission) -> Result<WorkspaceAccess> {
        scope::workspace(c, &self.principal, id, permission).await
    }

    /// An audit event by this caller in the organization.
    pub fn event(
        &self,
        org: &OrgScope,
        action: &'static str,
        target_type: &'static str,
        target_id: impl ToString,
    ) -> NewEvent {
        event(org.id(), action, self.principal.actor(), &self.meta, self.now).target(target_type, target_id)
    }

    /// An audit event filed under a workspace.
    pub fn ws_event(
        &self,
        ws: &WorkspaceScope,
        action: &'static str,
        target_type: &'static str,
        target_id: impl ToString,
    ) -> NewEvent {
        let mut e = self.event(ws.org(), action, target_type, target_id);
        e.workspace_id = Some(ws.id().to_string());
        e
    }
}

/// An audit event with no target and no changes yet.
pub fn event(org: &OrgId, action: &'static str, actor: Actor, meta: &RequestMeta, now: Timestamp) -> NewEvent {
    NewEvent {
        org_id: org.clone(),
        action,
        actor,
        target_type: None,
        target_id: None,
        workspace_id: None,
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        changes: Value::Null,
        metadata: Value::Null,
        occurred_at: now,
    }
}

/// Fluent setters for the optional parts of an event.
pub trait EventExt {
    fn target(self, kind: &'static str, id: impl ToString) -> Self;
    fn changes(self, changes: Value) -> Self;
    fn metadata(self, metadata: Value) -> Self;
}

impl EventExt for NewEvent {
    fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_string());
        self
    }

    fn changes(mut self, changes: Value) -> Self {
        self.changes = changes;
        self
    }

    fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }
}

/// Deserializes a field that may be absent (leave as is), `null` (clear) or a
/// value (set): `Option<Option<T>>` for PATCH bodies.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Some)
}
