//! A usage report written in the background: counted, drawn, stored, then
//! marked ready; the progress moves on the report's row as it goes. Each
//! hour, reports past their keeping time lose their files.

use serde::{Deserialize, Serialize};
use steward_core::ids::{OrgId, ReportId};
use steward_core::permissions::Permission;
use steward_store::reports::Written;

use super::{Job, JobCtx, JobError};
use crate::services::reports;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generate {
    pub report_id: ReportId,
}

impl Job for Generate {
    const KIND: &'static str = "report";
    const MAX_ATTEMPTS: i64 = 3;

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let org = ctx.org_id.clone().ok_or_else(|| JobError::permanent("a report needs its organization"))?;
        let system = ctx.system("reports").in_org(&org);
        match self.write(&ctx, &system).await {
            // The last attempt: the report says it failed rather than stay pending.
            Err(e) if ctx.attempt >= Self::MAX_ATTEMPTS || e.permanent => {
                if let Ok(r) = reports::get(ctx.db(), &system, &self.report_id).await {
                    reports::fail(ctx.db(), &system, &r, "it could not be written; ask for it again").await?;
                }
                Err(JobError::permanent(e.message))
            }
            other => other,
        }
    }
}

impl Generate {
    async fn write(&self, ctx: &JobCtx, system: &crate::services::Ctx) -> Result<(), JobError> {
        let scope = system.authorize(Permission::BillingRead)?;
        let report = match reports::get(ctx.db(), system, &self.report_id).await {
            Ok(r) => r,
            // Its organization is gone with it.
            Err(e) if e.status == 404 => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if !report.status.is_pending() || !reports::progress(ctx.db(), &scope, &report.id, 10).await? {
            return Ok(());
        }
        let contents = reports::contents(ctx.db(), &scope, &report, ctx.now()).await?;
        let (lines, total_used) = (contents.lines.len() as i64, contents.total);
        reports::progress(ctx.db(), &scope, &report.id, 40).await?;
        let bytes = reports::render(report.format, contents).await?;
        reports::progress(ctx.db(), &scope, &report.id, 90).await?;
        let key = reports::file_key(&scope, &report);
        // Stored first, kept only if the row says ready (as uploads are).
        let stored = ctx.app.files.put_pending(&key, &bytes).await.map_err(|e| JobError::retry(e.to_string()))?;
        let written = Written {
            file_key: key,
            bytes: bytes.len() as i64,
            lines,
            total_used,
            expires_at: reports::expiry(ctx.now()),
        };
        if reports::finish(ctx.db(), system, &report, written).await? {
            stored.keep();
        }
        Ok(())
    }
}

/// One organization's share of the hourly clean-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportsExpiry {
    pub org: OrgId,
}

impl Job for ReportsExpiry {
    const KIND: &'static str = "reports_expiry";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let system = ctx.system("reports").in_org(&self.org);
        let expired = reports::expire_old(ctx.db(), &system, &ctx.app.files).await?;
        tracing::debug!(org = %self.org, expired, "report files past their keeping time removed");
        Ok(())
    }
}
