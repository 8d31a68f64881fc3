//! Recurring schedules. Every worker asks now and then whether a schedule's
//! current period has fired; the first instance to record the period in
//! `job_schedule_runs` enqueues its pass in the same transaction, the others
//! find it recorded and do nothing. So a pass runs once per period however
//! many instances run, and a period nobody was up for is skipped, not caught
//! up. A pass is one job per organization (deduplicated by organization and
//! period), so one organization's failure is retried alone and stops no one
//! else's share.

use steward_core::Result;
use steward_core::ids::OrgId;
use steward_core::time::Timestamp;
use steward_store::{Db, jobs, organizations};

use super::audit_retention::AuditRetention;
use super::credits::CreditsExpiry;
use super::reports::ReportsExpiry;
use super::rollup_upkeep::RollupUpkeep;
use super::{Enqueue, Job, new_job};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// A pass that runs once per period, one job per organization.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub name: &'static str,
    /// Periods start at multiples of this since the Unix epoch (UTC).
    pub period_ms: i64,
    /// The organization's job for the period (named by its label), enqueued now.
    pub job: fn(&OrgId, &str, Timestamp) -> Result<jobs::NewJob>,
}

impl Schedule {
    pub fn period_start(&self, now: Timestamp) -> Timestamp {
        Timestamp::from_millis(now.millis().div_euclid(self.period_ms) * self.period_ms)
    }

    /// `2026-12-01` for a daily schedule, `2026-12-01T13:00` for shorter periods.
    pub fn label(&self, period_start: Timestamp) -> String {
        let s = period_start.to_rfc3339();
        let len = if self.period_ms % DAY_MS == 0 { 10 } else { 16 };
        s.get(..len).unwrap_or(&s).to_owned()
    }
}

/// One job of a pass, kept single by its kind, organization and period:
/// `audit_retention:org_…:2026-12-01`.
pub fn per_org<J: Job>(job: J, org: &OrgId, period: &str, now: Timestamp) -> Result<jobs::NewJob> {
    let dedupe_key = Some(format!("{}:{org}:{period}", J::KIND));
    new_job(&job, Enqueue { org: Some(org.clone()), run_at: None, dedupe_key }, now)
}

/// Steward's schedules.
pub fn standard() -> Vec<Schedule> {
    vec![
        Schedule {
            name: "audit_retention",
            period_ms: DAY_MS,
            job: |org, period, now| per_org(AuditRetention { org: org.clone() }, org, period, now),
        },
        Schedule {
            name: "credits_expiry",
            period_ms: HOUR_MS,
            job: |org, period, now| per_org(CreditsExpiry { org: org.clone() }, org, period, now),
        },
        Schedule {
            name: "reports_expiry",
            period_ms: HOUR_MS,
            job: |org, period, now| per_org(ReportsExpiry { org: org.clone() }, org, period, now),
        },
        Schedule {
            name: "rollup_upkeep",
            period_ms: HOUR_MS,
            job: |org, period, now| per_org(RollupUpkeep { org: org.clone() }, org, period, now),
        },
    ]
}

/// Fires every schedule whose current period has not fired yet; the names of
/// those this call fired (any other instance's call finds them fired).
pub async fn fire_due(db: &Db, schedules: &[Schedule], now: Timestamp) -> Result<Vec<&'static str>> {
    let mut fired = Vec::new();
    for s in schedules {
        let period = s.period_start(now);
        // Deployment bookkeeping: the pass's jobs are the system's, and each
        // audits what it changes.
        let mut tx = db.write_deployment().await?;
        if !jobs::fire(&mut tx, s.name, period, now).await? {
            tx.commit_unaudited().await?;
            continue;
        }
        let orgs = organizations::list(&mut tx).await?;
        let label = s.label(period);
        let mut enqueued = 0;
        for org in &orgs {
            if jobs::enqueue(&mut tx, (s.job)(&org.id, &label, now)?, now).await?.is_some() {
                enqueued += 1;
            }
        }
        tx.commit_unaudited().await?;
        tracing::info!(schedule = s.name, period = %period, jobs = enqueued, "schedule fired");
        fired.push(s.name);
    }
    Ok(fired)
}
