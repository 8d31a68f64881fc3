//! Workspaces and the platform objects they hold: statuses, the lifecycle's
//! allowed transitions, who may do what inside a workspace, and settings rules.

use crate::messages::{problem, rule};
use crate::people::string_enum;
use crate::{Error, Result};

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
            let change = match self {
                Lifecycle::Suspend => "be suspended",
                Lifecycle::Reactivate => "be reactivated",
                Lifecycle::Archive => "be archived",
                Lifecycle::Restore => "be restored",
            };
            Error::conflict(
                &problem::INVALID_STATUS_TRANSITION,
                &[("what", &"workspace"), ("from", &current.as_str()), ("change", &change)],
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

/// The problem a suspended workspace answers, carrying the reason.
pub fn suspended(reason: Option<&str>) -> Error {
    let because = reason.map(|r| format!(": {r}")).unwrap_or_default();
    Error::forbidden(&problem::WORKSPACE_SUSPENDED, &[("reason", &because)])
        .with_extension("reason", reason.map(str::to_owned))
}

/// Platform objects can't change while their workspace isn't active.
pub fn require_active_for_changes(status: WorkspaceStatus, reason: Option<&str>) -> Result<()> {
    match status {
        WorkspaceStatus::Active => Ok(()),
        WorkspaceStatus::Suspended => Err(suspended(reason)),
        WorkspaceStatus::Archived => Err(Error::conflict(&problem::WORKSPACE_ARCHIVED, &[])),
    }
}

/// An IANA time zone name (`Europe/Paris`, `UTC`).
pub fn timezone(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 64 || jiff::tz::TimeZone::get(v).is_err() {
        return Err(Error::field(field, &rule::INVALID_TIME_ZONE, &[]));
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
        return Err(Error::field(field, &rule::INVALID_LANGUAGE, &[]));
    }
    Ok(v.to_owned())
}

pub const SUSPEND_REASON_MAX: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

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
    fn settings_rules() {
        assert_eq!(timezone("tz", "Europe/Paris").unwrap(), "Europe/Paris");
        assert!(timezone("tz", "Mars/Olympus").is_err());
        assert!(language("l", "en").is_ok() && language("l", "pt-BR").is_ok() && language("l", "zh-Hant").is_ok());
        assert!(language("l", "English").is_err() && language("l", "e").is_err() && language("l", "en_US").is_err());
    }
}
