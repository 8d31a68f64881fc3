//! What the API answers: stable JSON shapes built from domain records. Storage
//! columns never leak (no hashes, no internal flags).

use serde::Serialize;
use serde_json::Value;
use steward_core::authz::Actor;
use steward_core::ids::{ApiKeyId, EventId, OrgId, UserId};
use steward_core::people::{ApiScope, OrgRole, UserStatus};
use steward_core::time::Timestamp;
use steward_store::api_keys::ApiKey;
use steward_store::audit::AuditEvent;
use steward_store::organizations::Organization;
use steward_store::users::User;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationView {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Organization> for OrganizationView {
    fn from(o: &Organization) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
            slug: o.slug.clone(),
            description: o.description.clone(),
            website: o.website.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: OrgRole,
    pub status: UserStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            status: u.status,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the key, to recognise it (`stw_live_Ab3x`).
    pub prefix: String,
    /// Its last four characters.
    pub last4: String,
    pub scopes: Vec<ApiScope>,
    /// The user who created it; null when the operator's CLI or another key did.
    pub created_by: Option<UserId>,
    pub created_by_name: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            last4: k.last4.clone(),
            scopes: k.scopes.clone(),
            created_by: k.created_by.clone(),
            created_by_name: k.created_by_name.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            expires_at: k.expires_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    pub id: EventId,
    /// Position in the organization's trail (1, 2, 3 …).
    pub seq: i64,
    pub occurred_at: Timestamp,
    /// What happened (`organization.updated`, `user.invited`, …).
    pub action: String,
    pub actor: Actor,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub workspace_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Changed fields: `{"name": {"before": "Acme", "after": "Acme Inc"}}`.
    #[schema(value_type = Object)]
    pub changes: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id.clone(),
            seq: e.seq,
            occurred_at: e.occurred_at,
            action: e.action.clone(),
            actor: e.actor.clone(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            workspace_id: e.workspace_id.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            changes: e.changes.clone(),
            metadata: e.metadata.clone(),
        }
    }
}

/// A page of a list: `{"data": [...], "next_cursor": "…" | null}`.
macro_rules! list_view {
    ($name:ident, $item:ty) => {
        #[derive(Debug, Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// Pass as `?cursor=` for the next page; null on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            pub fn new<T>(rows: &[T], next_cursor: Option<String>) -> Self
            where
                for<'a> $item: From<&'a T>,
            {
                Self { data: rows.iter().map(<$item>::from).collect(), next_cursor }
            }
        }
    };
}

list_view!(UserList, UserView);
list_view!(ApiKeyList, ApiKeyView);
list_view!(AuditEventList, AuditEventView);
