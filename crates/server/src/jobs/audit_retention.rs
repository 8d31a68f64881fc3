//! `audit_retention`: one organization's share of the daily retention pass
//! (DATA-2). Purging twice removes nothing more, so a second run is harmless.

use serde::{Deserialize, Serialize};
use steward_core::ids::OrgId;

use super::{Job, JobCtx, JobError};
use crate::services::audit::{self, RETENTION_DAYS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRetention {
    pub org: OrgId,
}

impl Job for AuditRetention {
    const KIND: &'static str = "audit_retention";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let system = ctx.system("retention").in_org(&self.org);
        let purged = audit::purge(ctx.db(), &system, RETENTION_DAYS).await?;
        tracing::info!(org = %self.org, purged, "audit retention");
        Ok(())
    }
}
