//! Credit jobs: an alert that fired (its audit event, which webhooks carry as
//! `credits.low` or `credits.depleted`, and a letter to every active Super
//! Admin), and the hourly pass: grants past their expiry written off,
//! days-left alerts checked.

use serde::{Deserialize, Serialize};
use steward_core::ids::{CreditAlertId, OrgId};

use super::{Job, JobCtx, JobError};
use crate::mail::Letter;
use crate::services::EventExt;
use crate::services::credits::{check_days_left, expire};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAlert {
    pub alert_id: CreditAlertId,
    /// The balance the crossing left.
    pub balance: i64,
}

impl Job for CreditAlert {
    const KIND: &'static str = "credit_alert";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let org = ctx.org_id.clone().ok_or_else(|| JobError::permanent("a credit alert needs its organization"))?;
        let system = ctx.system("credits").in_org(&org);
        let scope = system.authorize(steward_core::permissions::Permission::CreditsRead)?;
        let mut tx = ctx.db().write(&scope).await?;
        let alerts = steward_store::credits::alerts::list(&mut tx, &scope).await?;
        // Changed or removed since it fired: nothing to say.
        let Some(alert) = alerts.into_iter().find(|a| a.id == self.alert_id && a.fired_at.is_some()) else {
            return Ok(());
        };
        let action = if self.balance == 0 { "credits.depleted" } else { "credits.low" };
        let threshold = match alert.kind.as_str() {
            "days_left" => format!("{} days left", alert.threshold),
            _ => format!("{} credits", alert.threshold),
        };
        let event = system.event(&scope, action, "organization", &org).metadata(serde_json::json!({
            "balance": self.balance, "threshold": alert.threshold, "kind": alert.kind,
        }));
        let postbox = ctx.app.postbox();
        for admin in steward_store::users::active_super_admins(&mut tx, &scope).await? {
            let letter = Letter::CreditsLow { balance: self.balance, threshold: threshold.clone() };
            postbox.post(&mut tx, &scope, &admin, letter, "/settings/billing/credits", ctx.now()).await?;
        }
        let done = steward_store::audit::append(&mut tx, event).await?;
        tx.commit(done).await?;
        Ok(())
    }
}

/// One organization's share of the hourly write-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsExpiry {
    pub org: OrgId,
}

impl Job for CreditsExpiry {
    const KIND: &'static str = "credits_expiry";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        let system = ctx.system("credits").in_org(&self.org);
        let written_off = expire(ctx.db(), &system).await?;
        let fired = check_days_left(ctx.db(), &system).await?;
        tracing::debug!(org = %self.org, written_off, fired, "credit expiry and days-left alerts");
        Ok(())
    }
}
