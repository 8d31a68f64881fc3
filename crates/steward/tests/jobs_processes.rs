//! Several `steward worker` processes on one PostgreSQL database: every job
//! runs once, a job of a worker killed mid-run runs again after its lease,
//! and a schedule fires once per period. PostgreSQL only: SQLite has one
//! process by design.

use std::process::Stdio;
use std::time::Duration;

use steward_core::ids::JobId;
use steward_core::time::Timestamp;
use steward_store::Db;
use steward_store::jobs::{self, JobState, NewJob};
use steward_store::testing::TestDb;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

/// A fresh PostgreSQL database and the flags that name it, or `None` (with
/// the reason printed) when PostgreSQL isn't configured.
async fn postgres(dir: &tempfile::TempDir) -> Option<(TestDb, Vec<String>)> {
    let pg = steward_store::testing::postgres().await?;
    let files = dir.path().display().to_string();
    let args = vec!["--database-url".to_owned(), pg.url.clone(), "--data-dir".to_owned(), files];
    Some((pg, args))
}

/// Starts `steward worker …` and returns once it says it runs.
async fn worker(args: &[String], extra: &[&str]) -> Child {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("worker")
        .args(extra)
        .env_remove("STEWARD_DATABASE_URL")
        .env("STEWARD_LOG", "warn")
        .env("STEWARD_METRICS_LISTEN", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start steward worker");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line()).await.expect("the worker starts in time");
        if line.unwrap().expect("a line").starts_with("Steward worker running") {
            break;
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

fn noop(sleep_ms: u64, now: Timestamp) -> NewJob {
    NewJob {
        kind: "noop",
        payload: format!("{{\"sleep_ms\":{sleep_ms}}}"),
        org_id: None,
        run_at: now,
        max_attempts: 3,
        dedupe_key: None,
    }
}

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap()
}

async fn get(db: &Db, id: &JobId) -> jobs::Job {
    let mut c = db.conn().await.unwrap();
    jobs::get(&mut c, id).await.unwrap().unwrap()
}

/// Polls `check` every 50 ms until it holds, failing after `secs` seconds.
async fn until<F: AsyncFn() -> bool>(secs: u64, what: &str, check: F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn four_worker_processes_run_a_thousand_jobs_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some((pg, args)) = postgres(&dir).await else { return };
    let db = &pg.db;
    let now = Timestamp::now_utc();
    let mut tx = db.write_deployment().await.unwrap();
    for _ in 0..1000 {
        jobs::enqueue(&mut tx, noop(0, now), now).await.unwrap().unwrap();
    }
    tx.commit_unaudited().await.unwrap();

    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..4 {
        workers.push(worker(&args, &["--concurrency", "4"]).await);
    }
    until(60, "all 1,000 jobs done", async || {
        scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND state = 'done'").await == 1000
    })
    .await;
    eprintln!("1,000 jobs done {:?} after the first worker started", started.elapsed());
    // One claim each: a job claimed twice would have attempts 2.
    let twice = scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'noop' AND attempts <> 1").await;
    assert_eq!(twice, 0, "no job ran twice");
    for mut w in workers {
        w.start_kill().unwrap();
        w.wait().await.unwrap();
    }
}

#[tokio::test]
async fn the_job_of_a_killed_worker_runs_again_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let Some((pg, args)) = postgres(&dir).await else { return };
    let db = &pg.db;
    let now = Timestamp::now_utc();
    let mut tx = db.write_deployment().await.unwrap();
    let id = jobs::enqueue(&mut tx, noop(3000, now), now).await.unwrap().unwrap();
    tx.commit_unaudited().await.unwrap();

    // The lease is written by the claiming worker, so A's must be short too.
    let mut a = worker(&args, &["--concurrency", "1", "--lease-secs", "2"]).await;
    until(20, "A claims the job", async || get(db, &id).await.state == JobState::Running).await;
    let claimed = get(db, &id).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.start_kill().unwrap(); // SIGKILL: no grace, nothing given back.
    a.wait().await.unwrap();
    let after_kill = get(db, &id).await;
    assert_eq!((after_kill.state, after_kill.attempts), (JobState::Running, 1), "A died mid-job");

    let killed_at = Instant::now();
    let _b = worker(&args, &["--concurrency", "1", "--lease-secs", "2"]).await;
    until(30, "B completes the job", async || get(db, &id).await.state == JobState::Done).await;
    eprintln!("done {:?} after the kill", killed_at.elapsed());
    let done = get(db, &id).await;
    assert_eq!(done.attempts, 2, "A's attempt and B's");
    assert!(done.started_at.unwrap() >= claimed.locked_until.unwrap(), "B took it only after A's lease ran out");
}

#[tokio::test]
async fn a_schedule_fires_once_per_period_with_three_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let Some((pg, args)) = postgres(&dir).await else { return };
    let db = &pg.db;
    // With a password, so the organization's only jobs are the schedules' (no set-password mail).
    let mut create = std::process::Command::new(BIN)
        .args(&args)
        .args(["org", "create", "--name", "Acme", "--admin-email", "ada@acme.example", "--admin-password-stdin"])
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        create.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
    }
    let o = create.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Started together, so all three ask for the current periods at once.
    let mut starting = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let args = args.clone();
        starting.spawn(async move { worker(&args, &["--concurrency", "2"]).await });
    }
    let workers = starting.join_all().await;
    until(30, "both passes done", async || {
        scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind IN ('audit_retention', 'rollup_upkeep') AND state = 'done'")
            .await
            >= 2
    })
    .await;
    // Every worker has had its first look at the schedules by now.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let orgs = scalar(db, "SELECT COUNT(*) FROM organizations").await;
    assert_eq!(orgs, 1);
    let daily_runs = scalar(db, "SELECT COUNT(*) FROM job_schedule_runs WHERE schedule = 'audit_retention'").await;
    let daily_jobs = scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'audit_retention'").await;
    assert_eq!((daily_runs, daily_jobs), (1, 1), "one daily period, one job for the organization");
    // An hour may turn during the test: then two periods, each fired once.
    let hourly_runs = scalar(db, "SELECT COUNT(*) FROM job_schedule_runs WHERE schedule = 'rollup_upkeep'").await;
    let hourly_jobs = scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'rollup_upkeep'").await;
    assert!((1..=2).contains(&hourly_runs), "{hourly_runs} hourly periods");
    assert_eq!(hourly_jobs, hourly_runs, "one job per hourly period for the organization");
    // The hourly credit pass (expiry, days-left alerts) fires with the same periods.
    let credit_runs = scalar(db, "SELECT COUNT(*) FROM job_schedule_runs WHERE schedule = 'credits_expiry'").await;
    let credit_jobs = scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'credits_expiry'").await;
    assert!((1..=2).contains(&credit_runs), "{credit_runs} credit periods");
    assert_eq!(credit_jobs, credit_runs, "one credit pass per hourly period for the organization");
    let report_runs = scalar(db, "SELECT COUNT(*) FROM job_schedule_runs WHERE schedule = 'reports_expiry'").await;
    let report_jobs = scalar(db, "SELECT COUNT(*) FROM jobs WHERE kind = 'reports_expiry'").await;
    assert_eq!(report_jobs, report_runs, "one report clean-up per hourly period for the organization");
    let org_jobs = scalar(db, "SELECT COUNT(*) FROM jobs WHERE org_id IS NOT NULL").await;
    assert_eq!(org_jobs, daily_jobs + hourly_jobs + credit_jobs + report_jobs);
    drop(workers);
}
