//! Workspaces and the platform objects they hold: statuses, the lifecycle's
//! allowed transitions, who may do what inside a workspace, and settings rules.

use crate::authz::{Credential, Principal};
use crate::people::{ApiScope, OrgRole, string_enum};
use crate::{Error, FieldError, Result};

string_enum!(
    /// `active` workspaces work; `suspended` ones lock their members out and pause
    /// their campaigns; `archived` ones are hidden from everyone but Super Admins.
    WorkspaceStatus { Active = "active", Suspended = "suspended", Archived = "archived" }
);

string_enum!(
    /// A member's role inside one workspace.
    WorkspaceRole { Admin = "admin", Editor = "editor", Viewer = "viewer" }
);

string_enum!(CampaignStatus { Draft = "draft", Active = "active", Paused = "paused", Completed = "completed" });

string_enum!(ContentStatus { Draft = "draft", Scheduled = "scheduled", Published = "published" });

string_enum!(ConnectionStatus { Active = "active", Expired = "expired", Revoked = "revoked" });

string_enum!(
    /// The social platforms a workspace can connect.
    Platform {
        Facebook = "facebook",
        Instagram = "instagram",
        X = "x",
        Linkedin = "linkedin",
        Tiktok = "tiktok",
        Youtube = "youtube",
        Pinterest = "pinterest",
        Threads = "threads",
    }
);

string_enum!(
    /// Why a campaign was paused by the workspace's lifecycle (so the reverse step
    /// resumes exactly those, and a campaign paused by hand stays paused).
    PausedBy { Suspension = "suspension", Archive = "archive" }
);

/// The lifecycle actions of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    Suspend,
    Reactivate,
    Archive,
    Restore,
}

impl Lifecycle {
    pub fn verb(self) -> &'static str {
        match self {
            Lifecycle::Suspend => "suspend",
            Lifecycle::Reactivate => "reactivate",
            Lifecycle::Archive => "archive",
            Lifecycle::Restore => "restore",
        }
    }

    /// The status after the action, or a 409 naming the current status.
    /// `restore_to` is where an archived workspace returns (what it was before).
    pub fn apply(self, current: WorkspaceStatus, restore_to: WorkspaceStatus) -> Result<WorkspaceStatus> {
        use WorkspaceStatus::*;
        let next = match (self, current) {
            (Lifecycle::Suspend, Active) => Some(Suspended),
            (Lifecycle::Reactivate, Suspended) => Some(Active),
            (Lifecycle::Archive, Active | Suspended) => Some(Archived),
            (Lifecycle::Restore, Archived) => Some(restore_to),
            _ => None,
        };
        next.ok_or_else(|| {
            Error::conflict(
                "invalid_status_transition",
                format!("Cannot {} a workspace that is {}.", self.verb(), current.as_str()),
            )
            .with_extension("current_status", current.as_str())
        })
    }
}

impl CampaignStatus {
    /// The allowed campaign transitions: draft → active → paused ⇄ active → completed.
    pub fn can_become(self, next: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!((self, next), (Draft, Active) | (Active, Paused) | (Paused, Active) | (Active | Paused, Completed))
    }
}

impl ContentStatus {
    pub fn can_become(self, next: ContentStatus) -> bool {
        use ContentStatus::*;
        matches!((self, next), (Draft, Scheduled) | (Scheduled, Draft) | (Draft | Scheduled, Published))
    }
}

/// What a caller wants to do inside a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WsAction {
    /// See the workspace and what it holds.
    Read,
    /// Create and change campaigns and content (editors).
    Edit,
    /// Manage members, connections, media and settings (workspace admins).
    Manage,
}

/// Whether `principal` may do `action` in a workspace of its organization with
/// this `status`, given its `membership` there. Super Admins and `admin` keys
/// manage every workspace; `read` keys read every workspace; members act by
/// their workspace role. Archived workspaces don't exist for members (404);
/// suspended ones refuse them with the reason (403).
pub fn authorize(
    principal: &Principal,
    membership: Option<WorkspaceRole>,
    status: WorkspaceStatus,
    reason: Option<&str>,
    action: WsAction,
) -> Result<()> {
    let org_wide = match &principal.credential {
        Credential::Session { role: OrgRole::SuperAdmin, .. } => Some(WsAction::Manage),
        Credential::ApiKey { scopes, .. } if scopes.contains(&ApiScope::Admin) => Some(WsAction::Manage),
        Credential::ApiKey { scopes, .. } if scopes.contains(&ApiScope::Read) => Some(WsAction::Read),
        Credential::ApiKey { .. } => None,
        Credential::Session { .. } => None,
    };
    if let Some(allowed) = org_wide {
        return if action <= allowed {
            Ok(())
        } else {
            Err(Error::forbidden("insufficient_scope", "This API key may only read. Use a key with the `admin` scope."))
        };
    }
    let Some(role) = membership else { return Err(Error::not_found("workspace")) };
    match status {
        WorkspaceStatus::Archived => return Err(Error::not_found("workspace")),
        WorkspaceStatus::Suspended => return Err(suspended(reason)),
        WorkspaceStatus::Active => {}
    }
    let allowed = match role {
        WorkspaceRole::Admin => WsAction::Manage,
        WorkspaceRole::Editor => WsAction::Edit,
        WorkspaceRole::Viewer => WsAction::Read,
    };
    if action <= allowed {
        Ok(())
    } else {
        let need = if action == WsAction::Manage { "a workspace admin" } else { "an editor or workspace admin" };
        Err(Error::forbidden(
            "workspace_role_required",
            format!("Your role in this workspace is {}; this needs {need}. Ask a workspace admin.", role.as_str()),
        ))
    }
}

/// The problem a suspended workspace answers, carrying the reason.
pub fn suspended(reason: Option<&str>) -> Error {
    let detail = match reason {
        Some(r) => format!("This workspace is suspended: {r}. Contact a Super Admin of your organization."),
        None => "This workspace is suspended. Contact a Super Admin of your organization.".to_owned(),
    };
    Error::forbidden("workspace_suspended", detail).with_extension("reason", reason.map(str::to_owned))
}

/// Platform objects can't change while their workspace isn't active.
pub fn require_active_for_changes(status: WorkspaceStatus, reason: Option<&str>) -> Result<()> {
    match status {
        WorkspaceStatus::Active => Ok(()),
        WorkspaceStatus::Suspended => Err(suspended(reason)),
        WorkspaceStatus::Archived => Err(Error::conflict(
            "workspace_archived",
            "This workspace is archived; restore it before changing what it holds.",
        )),
    }
}

/// An IANA time zone name (`Europe/Paris`, `UTC`).
pub fn timezone(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 64 || jiff::tz::TimeZone::get(v).is_err() {
        return Err(Error::validation(vec![FieldError::new(
            field,
            "invalid",
            "must be an IANA time zone such as UTC, Europe/Paris or America/New_York",
        )]));
    }
    Ok(v.to_owned())
}

/// A language tag such as `en`, `en-US`, `pt-BR` or `zh-Hant` (BCP 47 shape).
pub fn language(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    let mut parts = v.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest_ok = parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok || v.len() > 35 {
        return Err(Error::validation(vec![FieldError::new(
            field,
            "invalid",
            "must be a language tag such as en, en-US or pt-BR",
        )]));
    }
    Ok(v.to_owned())
}

pub const SUSPEND_REASON_MAX: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ApiKeyId, OrgId, SessionId, UserId};

    fn session(role: OrgRole) -> Principal {
        Principal {
            org_id: OrgId::new(),
            credential: Credential::Session {
                session_id: SessionId::new(),
                user_id: UserId::new(),
                role,
                email: "a@b.example".into(),
            },
        }
    }

    #[test]
    fn lifecycle_transitions() {
        use WorkspaceStatus::*;
        assert_eq!(Lifecycle::Suspend.apply(Active, Active).unwrap(), Suspended);
        assert_eq!(Lifecycle::Reactivate.apply(Suspended, Active).unwrap(), Active);
        assert_eq!(Lifecycle::Archive.apply(Suspended, Active).unwrap(), Archived);
        assert_eq!(Lifecycle::Restore.apply(Archived, Suspended).unwrap(), Suspended);
        let e = Lifecycle::Reactivate.apply(Active, Active).unwrap_err();
        assert_eq!((e.status, e.code), (409, "invalid_status_transition"));
        assert_eq!(e.extensions["current_status"], "active");
        assert!(Lifecycle::Suspend.apply(Archived, Active).is_err());
        assert!(Lifecycle::Restore.apply(Active, Active).is_err());
    }

    #[test]
    fn campaign_transitions() {
        use CampaignStatus::*;
        assert!(
            Draft.can_become(Active)
                && Active.can_become(Paused)
                && Paused.can_become(Active)
                && Paused.can_become(Completed)
        );
        assert!(!Draft.can_become(Completed) && !Completed.can_become(Active) && !Draft.can_become(Paused));
    }

    #[test]
    fn members_act_by_role_and_lose_access_when_suspended() {
        let m = session(OrgRole::Member);
        use WorkspaceStatus::*;
        assert!(authorize(&m, Some(WorkspaceRole::Viewer), Active, None, WsAction::Read).is_ok());
        assert_eq!(
            authorize(&m, Some(WorkspaceRole::Viewer), Active, None, WsAction::Edit).unwrap_err().code,
            "workspace_role_required"
        );
        assert!(authorize(&m, Some(WorkspaceRole::Editor), Active, None, WsAction::Edit).is_ok());
        assert!(authorize(&m, Some(WorkspaceRole::Admin), Active, None, WsAction::Manage).is_ok());
        let e =
            authorize(&m, Some(WorkspaceRole::Admin), Suspended, Some("unpaid invoice"), WsAction::Read).unwrap_err();
        assert_eq!((e.status, e.code), (403, "workspace_suspended"));
        assert!(e.detail.contains("unpaid invoice"));
        assert_eq!(authorize(&m, Some(WorkspaceRole::Admin), Archived, None, WsAction::Read).unwrap_err().status, 404);
        assert_eq!(authorize(&m, None, Active, None, WsAction::Read).unwrap_err().status, 404);
        let admin = session(OrgRole::SuperAdmin);
        assert!(authorize(&admin, None, Archived, None, WsAction::Manage).is_ok());
        let read_key = Principal {
            org_id: OrgId::new(),
            credential: Credential::ApiKey { key_id: ApiKeyId::new(), name: "r".into(), scopes: vec![ApiScope::Read] },
        };
        assert!(authorize(&read_key, None, Suspended, None, WsAction::Read).is_ok());
        assert_eq!(authorize(&read_key, None, Active, None, WsAction::Edit).unwrap_err().code, "insufficient_scope");
    }

    #[test]
    fn settings_rules() {
        assert_eq!(timezone("tz", "Europe/Paris").unwrap(), "Europe/Paris");
        assert!(timezone("tz", "Mars/Olympus").is_err());
        assert!(language("l", "en").is_ok() && language("l", "pt-BR").is_ok() && language("l", "zh-Hant").is_ok());
        assert!(language("l", "English").is_err() && language("l", "e").is_err() && language("l", "en_US").is_err());
    }
}
