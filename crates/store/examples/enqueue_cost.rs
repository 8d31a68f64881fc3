//! What an enqueue adds to a write transaction, for bench/jobs:
//!
//!   cargo run --release -p steward-store --example enqueue_cost -- URL [ROUNDS]
//!
//! Each round commits two transactions on the migrated database at URL: one
//! that inserts a small row (a stand-in for a use case's write), and the same
//! plus `jobs::enqueue` of a `noop` job (on PostgreSQL with its NOTIFY).
//! Alternating them keeps drift in the machine's load out of the difference.
//! Prints the median of each and their difference in milliseconds.

use std::time::{Duration, Instant};

use steward_core::time::Timestamp;
use steward_store::jobs::{self, NewJob};
use steward_store::{Db, migrations};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: enqueue_cost URL [ROUNDS]")?;
    let rounds: i64 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(2000);
    let db = Db::connect(&url).await?;
    migrations::run(&db).await?;
    let (mut plain, mut with_job) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        plain.push(write(&db, 2 * i, false).await?);
        with_job.push(write(&db, 2 * i + 1, true).await?);
    }
    let (a, b) = (median(&mut plain), median(&mut with_job));
    println!(
        "{} {rounds} rounds: write {a:.3} ms, write + enqueue {b:.3} ms, enqueue adds {:.3} ms",
        db.engine().name(),
        b - a
    );
    db.close().await;
    Ok(())
}

/// One transaction: a row in `job_schedule_runs` (unique by `n`), and a job when `enqueue`.
async fn write(db: &Db, n: i64, enqueue: bool) -> Result<Duration, Box<dyn std::error::Error>> {
    let now = Timestamp::now_utc();
    let started = Instant::now();
    let mut tx = db.write_deployment().await?;
    jobs::fire(&mut tx, "enqueue_cost", Timestamp::from_millis(n), now).await?;
    if enqueue {
        let job =
            NewJob { kind: "noop", payload: "{}".into(), org_id: None, run_at: now, max_attempts: 3, dedupe_key: None };
        jobs::enqueue(&mut tx, job, now).await?;
    }
    tx.commit_unaudited().await?;
    Ok(started.elapsed())
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
