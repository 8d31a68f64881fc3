//! What the API answers: stable JSON shapes built from domain records. Storage
//! columns never leak (no hashes, no internal flags).

use serde::Serialize;
use serde_json::Value;
use steward_core::authz::Actor;
use steward_core::ids::{ApiKeyId, EventId, OrgId, UserId};
use steward_core::people::{OrgRole, UserStatus};
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
    /// IANA time zone of the organization's dashboard periods.
    pub timezone: String,
    /// Non-archived workspaces the plan allows; null when unlimited.
    pub workspace_limit: Option<i64>,
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
            timezone: o.timezone.clone(),
            workspace_limit: o.workspace_limit,
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
    /// Permission names and bundles (`admin`, `read`) the key was given.
    pub scopes: Vec<String>,
    /// Requests a minute it may make; past it, `429 rate_limited`.
    pub rate_limit_per_minute: i64,
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
            rate_limit_per_minute: k.rate_limit_per_minute,
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
    /// `null` for an event that changes no fields.
    #[schema(value_type = Option<Object>)]
    pub changes: Value,
    /// `null` when the event carries nothing more.
    #[schema(value_type = Option<Object>)]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WorkspaceView {
    pub id: steward_core::ids::WorkspaceId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub status: steward_core::workspaces::WorkspaceStatus,
    /// Why it was suspended (or archived), when given.
    pub status_reason: Option<String>,
    pub status_changed_at: Option<Timestamp>,
    pub timezone: String,
    pub default_language: String,
    /// Number of members.
    pub users: i64,
    /// Number of campaigns.
    pub campaigns: i64,
    pub storage_bytes: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&steward_store::workspaces::Workspace> for WorkspaceView {
    fn from(w: &steward_store::workspaces::Workspace) -> Self {
        Self {
            id: w.id.clone(),
            name: w.name.clone(),
            slug: w.slug.clone(),
            description: w.description.clone(),
            status: w.status,
            status_reason: w.status_reason.clone(),
            status_changed_at: w.status_changed_at,
            timezone: w.timezone.clone(),
            default_language: w.default_language.clone(),
            users: w.member_count,
            campaigns: w.campaign_count,
            storage_bytes: w.storage_bytes,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: steward_core::workspaces::WorkspaceRole,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&steward_store::workspaces::Member> for MemberView {
    fn from(m: &steward_store::workspaces::Member) -> Self {
        Self {
            user_id: m.user_id.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    pub id: steward_core::ids::CampaignId,
    pub workspace_id: steward_core::ids::WorkspaceId,
    pub name: String,
    pub status: steward_core::workspaces::CampaignStatus,
    /// Set while the workspace's suspension or archiving holds it paused.
    pub paused_by: Option<steward_core::workspaces::PausedBy>,
    pub cost_credits: i64,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&steward_store::campaigns::Campaign> for CampaignView {
    fn from(x: &steward_store::campaigns::Campaign) -> Self {
        Self {
            id: x.id.clone(),
            workspace_id: x.workspace_id.clone(),
            name: x.name.clone(),
            status: x.status,
            paused_by: x.paused_by,
            cost_credits: x.cost_credits,
            created_by: x.created_by.clone(),
            created_at: x.created_at,
            updated_at: x.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContentView {
    pub id: steward_core::ids::ContentId,
    pub workspace_id: steward_core::ids::WorkspaceId,
    pub campaign_id: Option<steward_core::ids::CampaignId>,
    pub title: String,
    pub body: Option<String>,
    pub status: steward_core::workspaces::ContentStatus,
    pub scheduled_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&steward_store::content::Content> for ContentView {
    fn from(x: &steward_store::content::Content) -> Self {
        Self {
            id: x.id.clone(),
            workspace_id: x.workspace_id.clone(),
            campaign_id: x.campaign_id.clone(),
            title: x.title.clone(),
            body: x.body.clone(),
            status: x.status,
            scheduled_at: x.scheduled_at,
            published_at: x.published_at,
            created_by: x.created_by.clone(),
            created_at: x.created_at,
            updated_at: x.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionView {
    pub id: steward_core::ids::ConnectionId,
    pub workspace_id: steward_core::ids::WorkspaceId,
    pub platform: steward_core::workspaces::Platform,
    pub account_name: String,
    pub status: steward_core::workspaces::ConnectionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&steward_store::connections::Connection> for ConnectionView {
    fn from(x: &steward_store::connections::Connection) -> Self {
        Self {
            id: x.id.clone(),
            workspace_id: x.workspace_id.clone(),
            platform: x.platform,
            account_name: x.account_name.clone(),
            status: x.status,
            created_at: x.created_at,
            updated_at: x.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    pub id: steward_core::ids::MediaId,
    pub workspace_id: steward_core::ids::WorkspaceId,
    pub filename: String,
    pub content_type: String,
    pub bytes: i64,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

impl From<&steward_store::media::Media> for MediaView {
    fn from(x: &steward_store::media::Media) -> Self {
        Self {
            id: x.id.clone(),
            workspace_id: x.workspace_id.clone(),
            filename: x.filename.clone(),
            content_type: x.content_type.clone(),
            bytes: x.bytes,
            created_by: x.created_by.clone(),
            created_at: x.created_at,
        }
    }
}

list_view!(WorkspaceList, WorkspaceView);
list_view!(MemberList, MemberView);
list_view!(CampaignList, CampaignView);
list_view!(ContentList, ContentView);
list_view!(ConnectionList, ConnectionView);
list_view!(MediaList, MediaView);
