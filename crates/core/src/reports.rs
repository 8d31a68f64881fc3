//! Usage reports (BILL-4): what a report counts, the file it is written as,
//! where it is in its life, and how long its file is kept.

use serde::{Deserialize, Serialize};

/// How long a finished report can be downloaded; then its file is removed.
pub const KEEP_DAYS: i64 = 7;
pub const KEEP_MS: i64 = KEEP_DAYS * 86_400_000;
/// Reports one organization may have queued or running at once.
pub const MAX_PENDING: i64 = 10;

/// What a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    /// Credits used per workspace, with each one's share.
    UsageByWorkspace,
    /// Credits used per member.
    UsageByUser,
    /// Credits each campaign cost, with its workspace.
    CampaignCosts,
}

impl ReportType {
    pub const ALL: [ReportType; 3] = [ReportType::UsageByWorkspace, ReportType::UsageByUser, ReportType::CampaignCosts];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::UsageByWorkspace => "usage_by_workspace",
            ReportType::UsageByUser => "usage_by_user",
            ReportType::CampaignCosts => "campaign_costs",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The report's title, as its file and the console show it.
    pub fn title(self) -> &'static str {
        match self {
            ReportType::UsageByWorkspace => "Credit usage by workspace",
            ReportType::UsageByUser => "Credit usage by user",
            ReportType::CampaignCosts => "Campaign costs",
        }
    }

    /// The heading of the table's first column.
    pub fn subject(self) -> &'static str {
        match self {
            ReportType::UsageByWorkspace => "Workspace",
            ReportType::UsageByUser => "User",
            ReportType::CampaignCosts => "Campaign",
        }
    }
}

/// The file a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Csv,
    Pdf,
}

impl ReportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(ReportFormat::Csv),
            "pdf" => Some(ReportFormat::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Pdf => "application/pdf",
        }
    }
}

/// Where a report is: waiting for a worker, being written, ready to download,
/// failed, or past its keeping time (its file removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Queued,
    Running,
    Ready,
    Failed,
    Expired,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Queued => "queued",
            ReportStatus::Running => "running",
            ReportStatus::Ready => "ready",
            ReportStatus::Failed => "failed",
            ReportStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ReportStatus::Queued, ReportStatus::Running, ReportStatus::Ready, ReportStatus::Failed, ReportStatus::Expired]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Still to be written.
    pub fn is_pending(self) -> bool {
        matches!(self, ReportStatus::Queued | ReportStatus::Running)
    }
}

/// One line of a report: what was counted, and by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The workspace, user or campaign id.
    pub id: String,
    /// Its name (the id when it no longer exists).
    pub name: String,
    /// For a campaign: its workspace's name; for a user: their email.
    pub detail: String,
    pub used: i64,
}

/// Each line's share of `total`, in percent with one decimal ("12.5").
pub fn share(used: i64, total: i64) -> String {
    if total <= 0 {
        return "0.0".into();
    }
    // Tenths of a percent, rounded half up, in integers (credits may reach 10^12).
    let tenths = (i128::from(used) * 1000 * 2 + i128::from(total)) / (2 * i128::from(total));
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The heading of the detail column, when the type has one.
pub fn detail_heading(t: ReportType) -> Option<&'static str> {
    match t {
        ReportType::UsageByWorkspace => None,
        ReportType::UsageByUser => Some("Email"),
        ReportType::CampaignCosts => Some("Workspace"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ReportType::ALL {
            assert_eq!(ReportType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ReportFormat::parse("pdf"), Some(ReportFormat::Pdf));
        assert_eq!(ReportFormat::parse("xls"), None);
        assert_eq!(ReportStatus::parse("ready"), Some(ReportStatus::Ready));
        assert!(ReportStatus::Running.is_pending() && !ReportStatus::Ready.is_pending());
    }

    #[test]
    fn shares_round_to_a_tenth() {
        assert_eq!(share(1, 3), "33.3");
        assert_eq!(share(2, 3), "66.7");
        assert_eq!(share(5, 5), "100.0");
        assert_eq!(share(0, 0), "0.0");
        assert_eq!(share(1, 1_000_000_000_000), "0.0");
        assert_eq!(share(999_999_999_999, 1_000_000_000_000), "100.0");
    }
}
