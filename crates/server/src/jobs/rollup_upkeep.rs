//! `rollup_upkeep`: one organization's share of the hourly tidy-up of the
//! dashboard rollups (slots the dashboard no longer reads are dropped).
//! Dropping what is already gone is harmless, so a second run is too.

use serde::{Deserialize, Serialize};
use steward_core::ids::OrgId;

use super::{Job, JobCtx, JobError};
use crate::services::dashboard;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupUpkeep {
    pub org: OrgId,
}

impl Job for RollupUpkeep {
    const KIND: &'static str = "rollup_upkeep";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let system = ctx.system("rollups").in_org(&self.org);
        let pruned = dashboard::prune_rollups(ctx.db(), &system).await?;
        tracing::debug!(org = %self.org, pruned, "rollup upkeep");
        Ok(())
    }
}
