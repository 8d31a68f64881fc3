//! `steward jobs list|retry|cancel`, `steward worker` and `serve --no-worker`
//! as an operator runs them: real processes on SQLite and (when configured)
//! PostgreSQL.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use steward_core::ids::JobId;
use steward_core::time::Timestamp;
use steward_store::Db;
use steward_store::jobs::{self, JobState, NewJob};
use tokio::io::{AsyncBufReadExt, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn steward(db_args: &[String], args: &[&str]) -> Output {
    Command::new(BIN)
        .args(db_args)
        .args(args)
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run steward")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// (engine, flags, the database the flags name, guard that drops a PostgreSQL test database).
async fn engines(dir: &Path) -> Vec<(String, Vec<String>, String, Option<steward_store::testing::TestDb>)> {
    let sqlite_dir = dir.join("sqlite");
    let mut out = vec![(
        "SQLite".to_owned(),
        vec!["--data-dir".to_owned(), sqlite_dir.display().to_string()],
        steward_store::db::sqlite_url(&sqlite_dir),
        None,
    )];
    if let Some(pg) = steward_store::testing::postgres().await {
        let files = dir.join("pg").display().to_string();
        let args = vec!["--database-url".to_owned(), pg.url.clone(), "--data-dir".to_owned(), files];
        out.push(("PostgreSQL".to_owned(), args, pg.url.clone(), Some(pg)));
    }
    out
}

/// A job due in `secs` seconds.
async fn put(db: &Db, kind: &'static str, key: Option<&str>, secs: i64) -> JobId {
    let now = Timestamp::now_utc();
    let job = NewJob {
        kind,
        payload: "{}".into(),
        org_id: None,
        run_at: now.plus_seconds(secs),
        max_attempts: 3,
        dedupe_key: key.map(str::to_owned),
    };
    let mut tx = db.write_deployment().await.unwrap();
    let id = jobs::enqueue(&mut tx, job, now).await.unwrap().unwrap();
    tx.commit_unaudited().await.unwrap();
    id
}

async fn state(db: &Db, id: &JobId) -> JobState {
    let mut c = db.conn().await.unwrap();
    jobs::get(&mut c, id).await.unwrap().unwrap().state
}

#[tokio::test]
async fn the_operator_lists_retries_and_cancels_jobs_on_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, args, url, _guard) in engines(dir.path()).await {
        let o = steward(&args, &["migrate"]);
        assert!(o.status.success(), "{engine}: {}", text(&o));
        let o = steward(&args, &["jobs", "list"]);
        assert!(o.status.success() && text(&o).contains("No jobs."), "{engine}: {}", text(&o));

        let db = Db::connect(&url).await.unwrap();
        let waiting = put(&db, "rollup_upkeep", None, 86_400).await;
        let doomed = put(&db, "audit_retention", Some("once"), 3600).await;
        // Make `doomed` dead: claimed two hours from now (when it is due) and failed for good.
        let later = Timestamp::now_utc().plus_seconds(7200);
        let claimed = jobs::claim(&db, "test", later, Duration::from_secs(60), 10).await.unwrap();
        let claimed = claimed.into_iter().find(|j| j.id == doomed).unwrap();
        assert!(jobs::fail(&db, &claimed, later, "the disk\tis full\nand more", None).await.unwrap());

        let o = steward(&args, &["jobs", "list"]);
        let t = text(&o);
        assert!(o.status.success() && t.contains(waiting.as_str()) && t.contains(doomed.as_str()), "{engine}: {t}");
        let o = steward(&args, &["jobs", "list", "--state", "dead"]);
        let t = text(&o);
        assert!(t.contains(doomed.as_str()) && !t.contains(waiting.as_str()), "{engine}: {t}");
        assert!(t.contains("audit_retention\tdead\t1/3") && t.contains("the disk is full and more"), "{engine}: {t}");
        let o = steward(&args, &["jobs", "list", "--kind", "audit_retention", "--state", "pending"]);
        assert!(text(&o).contains("No jobs."), "{engine}: {}", text(&o));
        let o = steward(&args, &["jobs", "list", "--state", "bogus"]);
        assert!(!o.status.success() && text(&o).contains("possible values"), "{engine}: {}", text(&o));

        let o = steward(&args, &["jobs", "retry", doomed.as_str()]);
        assert!(o.status.success() && text(&o).contains("pending again"), "{engine}: {}", text(&o));
        assert_eq!(state(&db, &doomed).await, JobState::Pending);
        let o = steward(&args, &["jobs", "retry", doomed.as_str()]);
        assert!(!o.status.success() && text(&o).contains("The job is pending and can't be retried"), "{}", text(&o));

        let o = steward(&args, &["jobs", "cancel", waiting.as_str()]);
        assert!(o.status.success() && text(&o).contains("is cancelled"), "{engine}: {}", text(&o));
        assert_eq!(state(&db, &waiting).await, JobState::Cancelled);
        let o = steward(&args, &["jobs", "cancel", waiting.as_str()]);
        assert!(!o.status.success() && text(&o).contains("The job is cancelled"), "{engine}: {}", text(&o));

        let o = steward(&args, &["jobs", "retry", "job_nope"]);
        assert!(!o.status.success() && text(&o).contains("is not a job id (job_…)"), "{engine}: {}", text(&o));
        let o = steward(&args, &["jobs", "cancel", JobId::new().as_str()]);
        assert!(
            !o.status.success() && text(&o).contains("No job with this id exists in this deployment"),
            "{engine}: {}",
            text(&o)
        );
        db.close().await;
    }
}

/// Waits for a line starting with `prefix` on the child's standard output.
/// The first line of the child's output that starts with `prefix`.
async fn wait_for_line(child: &mut tokio::process::Child, prefix: &str) -> String {
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let found = loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line()).await.expect("in time").unwrap();
        let line = line.expect("a line");
        if line.starts_with(prefix) {
            break line;
        }
    };
    // Keep reading so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found
}

/// `GET /metrics` from `addr` over plain HTTP/1.1.
async fn scrape(addr: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the metrics listener answers");
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: steward\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

fn spawn(args: &[String], cmd: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .args(args)
        .args(cmd)
        .env_remove("STEWARD_DATABASE_URL")
        .env("STEWARD_LOG", "warn")
        // Tests run side by side: no two servers may want port 9090.
        .env("STEWARD_METRICS_LISTEN", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start steward")
}

async fn count(db: &Db, kind: &str, state: Option<JobState>) -> usize {
    let mut c = db.conn().await.unwrap();
    jobs::list(&mut c, state, Some(kind), 100).await.unwrap().len()
}

#[tokio::test]
async fn steward_worker_runs_the_schedules_and_serve_no_worker_runs_none() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, args, url, _guard) in engines(dir.path()).await {
        let o = steward(&args, &["org", "create", "--name", "Acme", "--admin-email", "ada@acme.example"]);
        assert!(o.status.success(), "{engine}: {}", text(&o));
        let db = Db::connect(&url).await.unwrap();

        let mut http_only = spawn(&args, &["serve", "--no-worker", "--listen", "127.0.0.1:0"]);
        wait_for_line(&mut http_only, "Steward is running on").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(count(&db, "audit_retention", None).await, 0, "{engine}: no worker, no schedules");
        http_only.kill().await.ok();

        let mut worker = spawn(&args, &["worker", "--concurrency", "2", "--metrics-listen", "127.0.0.1:0"]);
        // Printed after "Steward worker running up to 2 jobs at once".
        let metrics = wait_for_line(&mut worker, "Metrics: http://").await;
        let metrics = metrics.trim_start_matches("Metrics: http://").trim_end_matches("/metrics").to_owned();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while count(&db, "audit_retention", Some(JobState::Done)).await < 1
            || count(&db, "rollup_upkeep", Some(JobState::Done)).await < 1
        {
            assert!(tokio::time::Instant::now() < deadline, "{engine}: the retention pass ran");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The worker's own /metrics count the jobs it ran.
        let scraped = scrape(&metrics).await;
        assert!(scraped.starts_with("HTTP/1.1 200"), "{engine}: {scraped}");
        let ran = r#"steward_job_runs_total{kind="audit_retention",outcome="done"}"#;
        assert!(scraped.contains(ran), "{engine}: the attempts it ran: {scraped}");
        assert!(scraped.contains("steward_jobs_oldest_due_seconds"), "{engine}: and the queue's gauges: {scraped}");
        // SIGTERM: a graceful stop.
        let pid = worker.id().unwrap().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = tokio::time::timeout(Duration::from_secs(30), worker.wait()).await.expect("stops").unwrap();
        assert!(status.success(), "{engine}: {status:?}");
        db.close().await;
    }
}
