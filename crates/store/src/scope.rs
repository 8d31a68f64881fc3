//! Tenant scopes: the organization, or one workspace of it, that a principal
//! may act in. Store functions on tenant data take a scope instead of a bare
//! id, and a scope is only made here — from an authenticated principal
//! (never from an id in a request), after [`authz::check`] — so no query of
//! tenant data can be called for another organization by mistake.

use std::ops::Deref;

use steward_core::authz::{self, Principal, Resource};
use steward_core::ids::{OrgId, WorkspaceId};
use steward_core::permissions::Permission;
use steward_core::workspaces::WorkspaceRole;
use steward_core::{Error, Result};

use crate::db::Conn;
use crate::workspaces::{self, Workspace};

/// The organization a principal acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope {
    id: OrgId,
}

impl OrgScope {
    /// The principal's own organization, with no permission asked: for the
    /// person's own things (their account, their workspaces) and for
    /// loading a workspace, where [`workspace`] asks.
    pub fn of(principal: &Principal) -> Result<OrgScope> {
        match &principal.org_id {
            Some(id) => Ok(OrgScope { id: id.clone() }),
            None => Err(Error::bad_request(
                &steward_core::messages::problem::ORGANIZATION_REQUIRED,
                &[("how", &"Name it (the CLI takes --org SLUG)")],
            )),
        }
    }

    pub fn id(&self) -> &OrgId {
        &self.id
    }
}

impl Deref for OrgScope {
    type Target = OrgId;
    fn deref(&self) -> &OrgId {
        &self.id
    }
}

/// Checks `permission` on the principal's organization and returns its scope.
pub fn organization(principal: &Principal, permission: Permission) -> Result<OrgScope> {
    authz::check(principal, permission, Resource::Organization)?;
    OrgScope::of(principal)
}

/// One workspace of an organization. Its children (campaigns, content,
/// connections, media, members) are read and written through it, and every
/// such query filters by both ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceScope {
    org: OrgScope,
    id: WorkspaceId,
}

impl WorkspaceScope {
    pub fn org(&self) -> &OrgScope {
        &self.org
    }

    pub fn org_id(&self) -> &OrgId {
        &self.org.id
    }

    pub fn id(&self) -> &WorkspaceId {
        &self.id
    }
}

impl Deref for WorkspaceScope {
    type Target = WorkspaceId;
    fn deref(&self) -> &WorkspaceId {
        &self.id
    }
}

/// A workspace loaded for a principal: its scope, the row, and the
/// principal's role there (members only).
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub scope: WorkspaceScope,
    pub workspace: Workspace,
    pub role: Option<WorkspaceRole>,
}

/// Loads a workspace of the principal's organization and checks `permission`
/// on it. Missing, another tenant's, or hidden from this caller: all 404.
pub async fn workspace(
    c: &mut Conn,
    principal: &Principal,
    id: &WorkspaceId,
    permission: Permission,
) -> Result<WorkspaceAccess> {
    let org = OrgScope::of(principal)?;
    let ws = workspaces::get(c, &org, id).await?.ok_or_else(|| Error::not_found("workspace"))?;
    let scope = WorkspaceScope { org, id: ws.id.clone() };
    let role = match principal.user_id() {
        Some(user) => workspaces::role_of(c, &scope, user).await?,
        None => None,
    };
    let resource = Resource::Workspace { role, status: ws.status, reason: ws.status_reason.as_deref() };
    authz::check(principal, permission, resource)?;
    Ok(WorkspaceAccess { scope, workspace: ws, role })
}
