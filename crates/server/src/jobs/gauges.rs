//! The jobs' gauges on `/metrics`, read from the table at each scrape: how many
//! jobs are pending, running, failed (waiting for a retry) and dead, by kind,
//! and how long the oldest due job has waited.

use std::sync::Arc;

use steward_core::time::Clock;
use steward_store::{Db, jobs};

use crate::metrics::Metrics;

const JOBS: &str = "steward_jobs";
const OLDEST: &str = "steward_jobs_oldest_due_seconds";

pub fn register(metrics: &Metrics, db: Db, clock: Arc<dyn Clock>) {
    metrics.on_scrape(move |m| {
        let (db, now) = (db.clone(), clock.now());
        async move {
            let summary = async {
                let mut c = db.conn().await?;
                jobs::summary(&mut c, now).await
            };
            match summary.await {
                Ok((counts, oldest)) => {
                    m.clear(JOBS);
                    for (kind, state, n) in counts {
                        let labels = [("kind", kind.as_str()), ("state", state.as_str())];
                        m.set(JOBS, "Jobs by kind and state (pending, running, failed, dead).", &labels, n as f64);
                    }
                    let waited = oldest.map(|t| (now.millis() - t.millis()).max(0) as f64 / 1000.0).unwrap_or(0.0);
                    m.set(OLDEST, "How long the oldest job that is due has waited, in seconds.", &[], waited);
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the jobs for the metrics"),
            }
        }
    });
}
