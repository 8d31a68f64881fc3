//! Who is acting, and what they may do. Every use case takes a [`Principal`] and
//! asks it for a capability before touching data; the organization a use case
//! works in is always the principal's own, never one named by the request.

use serde::Serialize;

use crate::ids::{ApiKeyId, OrgId, SessionId, UserId};
use crate::people::{ApiScope, OrgRole};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A signed-in person, through a console cookie or a bearer session token.
    Session { session_id: SessionId, user_id: UserId, role: OrgRole, email: String },
    /// An API key of the organization.
    ApiKey { key_id: ApiKeyId, name: String, scopes: Vec<ApiScope> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: OrgId,
    pub credential: Credential,
}

/// The kind of access a use case needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read the organization area (Super Admin, or an API key with `read` or `admin`).
    OrgRead,
    /// Change the organization area (Super Admin, or an API key with `admin`).
    OrgWrite,
}

impl Principal {
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.credential {
            Credential::Session { user_id, .. } => Some(user_id),
            Credential::ApiKey { .. } => None,
        }
    }

    pub fn is_super_admin(&self) -> bool {
        matches!(&self.credential, Credential::Session { role: OrgRole::SuperAdmin, .. })
    }

    /// Refuses with a problem that says why and what to do (TROUBLE-1).
    pub fn require(&self, access: Access) -> Result<()> {
        match (&self.credential, access) {
            (Credential::Session { role: OrgRole::SuperAdmin, .. }, _) => Ok(()),
            (Credential::Session { .. }, _) => Err(Error::forbidden(
                "super_admin_required",
                "Only Super Admins can use the organization area. Ask one of your organization's Super Admins for access.",
            )),
            (Credential::ApiKey { scopes, .. }, Access::OrgRead)
                if scopes.iter().any(|s| matches!(s, ApiScope::Read | ApiScope::Admin)) =>
            {
                Ok(())
            }
            (Credential::ApiKey { scopes, .. }, Access::OrgWrite) if scopes.contains(&ApiScope::Admin) => Ok(()),
            (Credential::ApiKey { .. }, _) => Err(Error::forbidden(
                "insufficient_scope",
                "This API key's scopes do not allow this request. Use a key with the `admin` scope.",
            )),
        }
    }

    /// How this principal appears in the audit trail.
    pub fn actor(&self) -> Actor {
        match &self.credential {
            Credential::Session { user_id, email, .. } => {
                Actor { kind: ActorKind::User, id: Some(user_id.to_string()), name: Some(email.clone()) }
            }
            Credential::ApiKey { key_id, name, .. } => {
                Actor { kind: ActorKind::ApiKey, id: Some(key_id.to_string()), name: Some(name.clone()) }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    /// The operator's CLI or a background job.
    System,
    /// Someone not signed in (a failed login, an invitation being accepted).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "user" => ActorKind::User,
            "api_key" => ActorKind::ApiKey,
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

    fn session(role: OrgRole) -> Principal {
        Principal {
            org_id: OrgId::new(),
            credential: Credential::Session {
                session_id: SessionId::new(),
                user_id: UserId::new(),
                role,
                email: "a@example.com".into(),
            },
        }
    }

    fn key(scopes: Vec<ApiScope>) -> Principal {
        Principal {
            org_id: OrgId::new(),
            credential: Credential::ApiKey { key_id: ApiKeyId::new(), name: "k".into(), scopes },
        }
    }

    #[test]
    fn only_super_admins_and_scoped_keys_reach_the_org_area() {
        assert!(session(OrgRole::SuperAdmin).require(Access::OrgWrite).is_ok());
        let member = session(OrgRole::Member).require(Access::OrgRead).unwrap_err();
        assert_eq!((member.status, member.code), (403, "super_admin_required"));
        assert!(key(vec![ApiScope::Read]).require(Access::OrgRead).is_ok());
        assert_eq!(key(vec![ApiScope::Read]).require(Access::OrgWrite).unwrap_err().code, "insufficient_scope");
        assert!(key(vec![ApiScope::Admin]).require(Access::OrgWrite).is_ok());
        assert!(key(vec![]).require(Access::OrgRead).is_err());
    }
}
