//! Background jobs through the worker, on every engine: retries with growing
//! delays and then `dead` (a manual clock), bad rows that die with a clear
//! error while the worker goes on, wake-ups within milliseconds, schedules
//! that fire once per period with three workers (in-process, each with its
//! own connection pool on the same database), and graceful shutdown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use steward_core::ids::JobId;
use steward_core::sealing::Sealer;
use steward_core::time::{Clock, ManualClock, SystemClock, Timestamp};
use steward_server::jobs::worker::{Outcome, Worker, WorkerConfig};
use steward_server::jobs::{Enqueue, Job, JobCtx, JobError, Registry, enqueue};
use steward_server::services::{Ctx, setup};
use steward_server::{AppState, ServerConfig};
use steward_store::jobs::{self as store, JobState, NewJob};
use steward_store::{Db, testing};

/// (tag, attempt) of every run, across the tests of this binary.
static RUNS: Mutex<Vec<(String, i64)>> = Mutex::new(Vec::new());

fn runs_of(tag: &str) -> Vec<i64> {
    RUNS.lock().unwrap().iter().filter(|(t, _)| t == tag).map(|(_, a)| *a).collect()
}

/// Fails every attempt up to `fail_until`, then succeeds.
#[derive(Debug, Serialize, Deserialize)]
struct Flaky {
    tag: String,
    fail_until: i64,
}

impl Job for Flaky {
    const KIND: &'static str = "flaky";
    const MAX_ATTEMPTS: i64 = 4;

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        RUNS.lock().unwrap().push((self.tag.clone(), ctx.attempt));
        if ctx.attempt <= self.fail_until {
            return Err(JobError::retry(format!("attempt {} failed", ctx.attempt)));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Sleepy {
    tag: String,
    ms: u64,
}

impl Job for Sleepy {
    const KIND: &'static str = "sleepy";

    async fn run(self, ctx: JobCtx) -> Result<(), JobError> {
        RUNS.lock().unwrap().push((self.tag.clone(), ctx.attempt));
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        Ok(())
    }
}

fn registry() -> Registry {
    Registry::standard().with::<Flaky>().with::<Sleepy>()
}

/// A day start plus half an hour (2027-01-15T00:30:00Z).
fn start() -> Timestamp {
    Timestamp::parse_rfc3339("2027-01-15T00:30:00Z").unwrap()
}

fn config(concurrency: usize) -> WorkerConfig {
    WorkerConfig { poll: Duration::from_secs(30), ..WorkerConfig::new(concurrency) }
}

/// What the worker's jobs reach: `db` on `clock` (these jobs send no mail).
fn app(db: &Db, clock: Arc<dyn Clock>) -> AppState {
    let sealer = Sealer::from_base64(&Sealer::generate_key()).unwrap();
    AppState::new(db.clone(), ServerConfig::new("http://steward.test"), sealer).with_clock(clock)
}

fn worker(db: &Db, clock: Arc<dyn Clock>, concurrency: usize) -> Worker {
    Worker::new(app(db, clock), registry(), config(concurrency)).with_schedules(Vec::new())
}

async fn put<J: Job>(db: &Db, job: &J, now: Timestamp) -> JobId {
    let mut tx = db.write_deployment().await.unwrap();
    let id = enqueue(&mut tx, job, Enqueue::default(), now).await.unwrap().unwrap();
    tx.commit_unaudited().await.unwrap();
    id
}

async fn row(db: &Db, id: &JobId) -> store::Job {
    let mut c = db.conn().await.unwrap();
    store::get(&mut c, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn failures_back_off_with_growing_delays_then_the_job_is_dead_with_its_last_error() {
    for test in testing::all_engines().await {
        let tag = format!("backoff-{:?}", test.engine);
        let clock = ManualClock::new(start());
        let w = worker(&test.db, Arc::new(clock.clone()), 1);
        let id = put(&test.db, &Flaky { tag: tag.clone(), fail_until: 99 }, clock.now()).await;
        let mut delays = Vec::new();
        for attempt in 1..=3i64 {
            let out = w.run_due().await.unwrap();
            let [(ran, Outcome::Retry(at))] = out.as_slice() else { panic!("attempt {attempt}: {out:?}") };
            assert_eq!(ran, &id);
            let delay = at.millis() - clock.now().millis();
            let plain = 10_000 * 2i64.pow(attempt as u32 - 1);
            assert!((plain * 8 / 10..=plain * 12 / 10).contains(&delay), "attempt {attempt}: {delay} ms");
            let failed = row(&test.db, &id).await;
            assert_eq!(failed.state, JobState::Failed);
            assert_eq!(failed.last_error, Some(format!("attempt {attempt} failed")));
            assert!(w.run_due().await.unwrap().is_empty(), "not due before its retry time");
            clock.advance_seconds((delay + 999) / 1000);
            delays.push(delay);
        }
        assert!(delays.windows(2).all(|d| d[1] > d[0]), "{delays:?}");
        let out = w.run_due().await.unwrap();
        assert_eq!(out, vec![(id.clone(), Outcome::Dead("attempt 4 failed".into()))]);
        let dead = row(&test.db, &id).await;
        assert_eq!((dead.state, dead.attempts), (JobState::Dead, 4));
        assert_eq!(dead.last_error.as_deref(), Some("attempt 4 failed"));
        assert_eq!(dead.finished_at, Some(clock.now()));
        clock.advance_seconds(7200);
        assert!(w.run_due().await.unwrap().is_empty(), "dead stays dead");
        assert_eq!(runs_of(&tag), vec![1, 2, 3, 4]);

        // One that recovers ends done.
        let tag = format!("recovers-{:?}", test.engine);
        let id = put(&test.db, &Flaky { tag: tag.clone(), fail_until: 1 }, clock.now()).await;
        assert!(matches!(w.run_due().await.unwrap()[0].1, Outcome::Retry(_)));
        clock.advance_seconds(13);
        assert_eq!(w.run_due().await.unwrap(), vec![(id.clone(), Outcome::Done)]);
        assert_eq!(row(&test.db, &id).await.state, JobState::Done);
    }
}

#[tokio::test]
async fn a_payload_that_no_longer_parses_and_an_unknown_kind_die_with_clear_errors_and_the_worker_goes_on() {
    for test in testing::all_engines().await {
        let tag = format!("bad-rows-{:?}", test.engine);
        let clock = ManualClock::new(start());
        let now = clock.now();
        let raw = |kind: &'static str, payload: &str| NewJob {
            kind,
            payload: payload.into(),
            org_id: None,
            run_at: now,
            max_attempts: 5,
            dedupe_key: None,
        };
        let mut tx = test.db.write_deployment().await.unwrap();
        let bad = store::enqueue(&mut tx, raw("flaky", r#"{"tag": "x", "fail_until": "soon"}"#), now).await.unwrap();
        let unknown = store::enqueue(&mut tx, raw("vanished_kind", "{}"), now).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        let good = put(&test.db, &Flaky { tag: tag.clone(), fail_until: 0 }, now).await;
        let (bad, unknown) = (bad.unwrap(), unknown.unwrap());

        let w = worker(&test.db, Arc::new(clock.clone()), 5);
        let out = w.run_due().await.unwrap();
        assert_eq!(out.len(), 3);
        assert!(out.contains(&(good.clone(), Outcome::Done)), "{out:?}");
        let bad_row = row(&test.db, &bad).await;
        assert_eq!((bad_row.state, bad_row.attempts), (JobState::Dead, 1), "no retries: it can never parse");
        let error = bad_row.last_error.unwrap();
        assert!(error.starts_with("the flaky payload no longer parses: invalid type"), "{error}");
        let unknown_row = row(&test.db, &unknown).await;
        assert_eq!(unknown_row.state, JobState::Dead);
        let error = unknown_row.last_error.unwrap();
        assert!(error.starts_with("unknown job kind `vanished_kind`") && error.contains("flaky"), "{error}");
        assert!(w.run_due().await.unwrap().is_empty(), "no crash loop: nothing runs again");
        assert_eq!(runs_of(&tag), vec![1]);
    }
}

#[tokio::test]
async fn a_job_enqueued_by_a_use_case_that_rolls_back_never_runs() {
    for test in testing::all_engines().await {
        let tag = format!("rolled-back-{:?}", test.engine);
        let clock = ManualClock::new(start());
        let mut tx = test.db.write_deployment().await.unwrap();
        let job = Flaky { tag: tag.clone(), fail_until: 0 };
        enqueue(&mut tx, &job, Enqueue::default(), clock.now()).await.unwrap().unwrap();
        drop(tx); // the use case failed after enqueueing
        clock.advance_seconds(3600);
        assert!(worker(&test.db, Arc::new(clock.clone()), 4).run_due().await.unwrap().is_empty());
        assert!(runs_of(&tag).is_empty());
    }
}

#[tokio::test]
async fn a_job_starts_within_milliseconds_of_its_commit() {
    for test in testing::all_engines().await {
        let tag = format!("wake-{:?}", test.engine);
        // On PostgreSQL the worker is another instance (its own pool and
        // listener); on SQLite the one process.
        let worker_db = match test.engine {
            steward_store::Engine::Postgres => Db::connect(&test.url).await.unwrap(),
            steward_store::Engine::Sqlite => test.db.clone(),
        };
        let w = worker(&worker_db, Arc::new(SystemClock), 2);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(w.run(async move {
            let _ = stopped.await;
        }));
        // Let the listener subscribe; the poll (30 s) can't explain a fast start.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        put(&test.db, &Flaky { tag: tag.clone(), fail_until: 0 }, Timestamp::now_utc()).await;
        while runs_of(&tag).is_empty() && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{:?}: the job started after {took:?}", test.engine);
        let _ = stop.send(());
        running.await.unwrap();
    }
}

#[tokio::test]
async fn a_job_for_later_runs_at_its_time_not_at_the_next_poll() {
    for test in testing::all_engines().await {
        let tag = format!("later-{:?}", test.engine);
        let w = worker(&test.db, Arc::new(SystemClock), 2);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(w.run(async move {
            let _ = stopped.await;
        }));
        let now = Timestamp::now_utc();
        let mut tx = test.db.write_deployment().await.unwrap();
        let later = Enqueue { run_at: Some(now.plus_seconds(1)), ..Enqueue::default() };
        enqueue(&mut tx, &Flaky { tag: tag.clone(), fail_until: 0 }, later, now).await.unwrap().unwrap();
        tx.commit_unaudited().await.unwrap();
        let started = Instant::now();
        while runs_of(&tag).is_empty() && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900), "{:?}: not before its time ({took:?})", test.engine);
        assert!(took < Duration::from_secs(3), "{:?}: the poll is 30 s, yet it ran after {took:?}", test.engine);
        let _ = stop.send(());
        running.await.unwrap();
    }
}

#[tokio::test]
async fn shutdown_lets_short_jobs_finish_and_gives_long_ones_back() {
    for test in testing::all_engines().await {
        let (short, long) = (format!("short-{:?}", test.engine), format!("long-{:?}", test.engine));
        let now = Timestamp::now_utc();
        let short_id = put(&test.db, &Sleepy { tag: short.clone(), ms: 100 }, now).await;
        let long_id = put(&test.db, &Sleepy { tag: long.clone(), ms: 600_000 }, now).await;
        let config = WorkerConfig { grace: Duration::from_millis(500), ..config(2) };
        let w = Worker::new(app(&test.db, Arc::new(SystemClock)), registry(), config).with_schedules(Vec::new());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(w.run(async move {
            let _ = stopped.await;
        }));
        let begun = Instant::now();
        while (runs_of(&short).is_empty() || runs_of(&long).is_empty()) && begun.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(10), running).await.expect("stops after the grace period").unwrap();
        assert_eq!(row(&test.db, &short_id).await.state, JobState::Done);
        let back = row(&test.db, &long_id).await;
        assert_eq!((back.state, back.attempts, back.locked_by), (JobState::Pending, 0, None), "given back unfinished");
    }
}

#[tokio::test]
async fn schedules_fire_once_per_period_with_three_workers_and_each_organization_gets_its_own_job() {
    for test in testing::all_engines().await {
        let clock = ManualClock::new(start());
        let long_ago = start().plus_seconds(-100 * 86_400);
        for (name, at) in [("Old Corp", long_ago), ("New Corp", start())] {
            let input = setup::NewOrganization {
                name: name.into(),
                slug: None,
                admin_email: format!("admin@{}.example", name.replace(' ', "").to_lowercase()),
                admin_name: None,
                admin_password: None,
            };
            setup::create(&test.db, &Ctx::operator(at), None, input, 72).await.unwrap();
        }
        let mut workers = Vec::new();
        for _ in 0..3 {
            let db = Db::connect(&test.url).await.unwrap();
            workers.push(Worker::new(app(&db, Arc::new(clock.clone())), registry(), config(2)));
        }
        assert_eq!(
            fire_all(&workers).await,
            vec!["audit_retention", "credits_expiry", "reports_expiry", "rollup_upkeep"],
            "{:?}",
            test.engine
        );
        assert_eq!(fire_all(&workers).await, Vec::<&str>::new(), "the same period does not fire again");
        drain(&workers).await;
        assert_eq!(count(&test.db, "audit_retention", JobState::Done).await, 2, "one job per organization");
        assert_eq!(count(&test.db, "rollup_upkeep", JobState::Done).await, 2);
        assert_eq!(count(&test.db, "credits_expiry", JobState::Done).await, 2);
        assert_eq!(count(&test.db, "reports_expiry", JobState::Done).await, 2);

        // The old organization's founding events were past retention: the
        // system purged them and said so in its trail.
        let mut c = test.db.conn().await.unwrap();
        let old = steward_store::organizations::by_slug(&mut c, "old-corp").await.unwrap().unwrap();
        let system = steward_core::authz::Principal::system("test").in_org(old.id.clone());
        let scope = steward_store::OrgScope::of(&system).unwrap();
        let page = steward_core::pagination::Page { limit: 50, after: None };
        let events = steward_store::audit::list(&mut c, &scope, &page).await.unwrap();
        drop(c);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!((events[0].action.as_str(), events[0].actor.name.as_deref()), ("audit.purged", Some("retention")));

        clock.advance_seconds(3600);
        let hourly = vec!["credits_expiry", "reports_expiry", "rollup_upkeep"];
        assert_eq!(fire_all(&workers).await, hourly, "an hour later: only the hourly ones");
        clock.advance_seconds(86_400);
        let all = vec!["audit_retention", "credits_expiry", "reports_expiry", "rollup_upkeep"];
        assert_eq!(fire_all(&workers).await, all, "a day later: all");
        drain(&workers).await;
        assert_eq!(count(&test.db, "audit_retention", JobState::Done).await, 4);
        assert_eq!(count(&test.db, "rollup_upkeep", JobState::Done).await, 6);
    }
}

/// Every worker fires the schedules at once; the names fired, sorted.
async fn fire_all(workers: &[Worker]) -> Vec<&'static str> {
    let fired = futures_util::future::join_all(workers.iter().map(|w| w.fire_schedules())).await;
    let mut names: Vec<&str> = fired.into_iter().flat_map(|f| f.unwrap()).collect();
    names.sort_unstable();
    names
}

/// Every worker runs what is due, at once, until nothing is left; all succeed.
async fn drain(workers: &[Worker]) {
    loop {
        let ran = futures_util::future::join_all(workers.iter().map(|w| w.run_due())).await;
        let ran: Vec<_> = ran.into_iter().flat_map(|r| r.unwrap()).collect();
        assert!(ran.iter().all(|(_, o)| *o == Outcome::Done), "{ran:?}");
        if ran.is_empty() {
            return;
        }
    }
}

async fn count(db: &Db, kind: &str, state: JobState) -> usize {
    let mut c = db.conn().await.unwrap();
    store::list(&mut c, Some(state), Some(kind), 100).await.unwrap().len()
}

#[tokio::test]
async fn a_job_whose_worker_died_is_taken_over_after_the_lease_and_dies_when_every_lease_ran_out() {
    for test in testing::all_engines().await {
        let tag = format!("takeover-{:?}", test.engine);
        let clock = ManualClock::new(start());
        let id = put(&test.db, &Flaky { tag: tag.clone(), fail_until: 0 }, clock.now()).await;
        // A worker claims it and dies without a word.
        let lease = Duration::from_secs(60);
        store::claim(&test.db, "dead-worker", clock.now(), lease, 1).await.unwrap();
        let w = worker(&test.db, Arc::new(clock.clone()), 2);
        assert!(w.run_due().await.unwrap().is_empty(), "held until the lease runs out");
        clock.advance_seconds(61);
        assert_eq!(w.run_due().await.unwrap(), vec![(id.clone(), Outcome::Done)]);
        assert_eq!(runs_of(&tag), vec![2], "the second attempt, by another worker");

        // A job that kills its worker every time: after its last attempt's
        // lease it is dead, not claimed forever.
        let doomed = put(&test.db, &Flaky { tag: format!("{tag}-doomed"), fail_until: 0 }, clock.now()).await;
        for _ in 0..Flaky::MAX_ATTEMPTS {
            assert_eq!(store::claim(&test.db, "dead-worker", clock.now(), lease, 1).await.unwrap().len(), 1);
            clock.advance_seconds(61);
        }
        let out = w.run_due().await.unwrap();
        let [(ran, Outcome::Dead(error))] = out.as_slice() else { panic!("{out:?}") };
        assert_eq!(ran, &doomed);
        assert!(error.contains("lease ran out during each of its 4 attempts"), "{error}");
        assert!(runs_of(&format!("{tag}-doomed")).is_empty(), "not run a fifth time");
    }
}

#[tokio::test]
async fn a_running_job_keeps_its_lease_while_it_runs() {
    for test in testing::all_engines().await {
        let tag = format!("renewed-{:?}", test.engine);
        let config = WorkerConfig { lease: Duration::from_millis(300), ..config(1) };
        let w = Worker::new(app(&test.db, Arc::new(SystemClock)), registry(), config).with_schedules(Vec::new());
        let id = put(&test.db, &Sleepy { tag: tag.clone(), ms: 1200 }, Timestamp::now_utc()).await;
        let running = tokio::spawn(async move { w.run_due().await.unwrap() });
        while runs_of(&tag).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Another worker keeps trying to take it, past several lease lengths.
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_millis(1000) {
            let stolen = store::claim(&test.db, "thief", Timestamp::now_utc(), Duration::from_secs(60), 1).await;
            assert!(stolen.unwrap().is_empty(), "{:?}: the lease was renewed", test.engine);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(running.await.unwrap(), vec![(id.clone(), Outcome::Done)]);
        assert_eq!(runs_of(&tag), vec![1]);
    }
}
