//! `noop`: sleeps `sleep_ms` (default 0) and succeeds. It touches nothing, so
//! tests, benchmarks and an operator checking that a worker runs jobs can
//! enqueue it anywhere; running it twice is harmless.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Job, JobCtx, JobError};

/// The longest sleep: a mistyped payload must not hold a slot for hours.
pub const MAX_SLEEP_MS: u64 = 60_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noop {
    #[serde(default)]
    pub sleep_ms: u64,
}

impl Job for Noop {
    const KIND: &'static str = "noop";

    async fn run(self, _ctx: JobCtx) -> Result<(), JobError> {
        if self.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.sleep_ms.min(MAX_SLEEP_MS))).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_payload_sleeps_not_at_all_and_the_kind_is_standard() {
        assert_eq!(serde_json::from_str::<Noop>("{}").unwrap(), Noop { sleep_ms: 0 });
        assert!(super::super::Registry::standard().kinds().contains(&"noop"));
    }
}
