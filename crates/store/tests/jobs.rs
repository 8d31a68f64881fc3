//! The jobs table on every engine: enqueued only with the transaction,
//! deduplicated, claimed once under a lease, taken over when the lease runs out.

use std::collections::HashSet;
use std::time::Duration;

use steward_core::ids::JobId;
use steward_core::time::Timestamp;
use steward_store::jobs::{self, Change, JobState, NewJob};
use steward_store::{Db, testing};

const LEASE: Duration = Duration::from_secs(60);

fn t(secs: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + secs * 1000)
}

fn new_job(key: Option<&str>, run_at: Timestamp) -> NewJob {
    NewJob {
        kind: "test",
        payload: "{}".into(),
        org_id: None,
        run_at,
        max_attempts: 3,
        dedupe_key: key.map(str::to_owned),
    }
}

async fn enqueue(db: &Db, job: NewJob, now: Timestamp) -> Option<JobId> {
    let mut tx = db.write_deployment().await.unwrap();
    let id = jobs::enqueue(&mut tx, job, now).await.unwrap();
    tx.commit_unaudited().await.unwrap();
    id
}

async fn state(db: &Db, id: &JobId) -> JobState {
    let mut c = db.conn().await.unwrap();
    jobs::get(&mut c, id).await.unwrap().unwrap().state
}

#[tokio::test]
async fn a_job_enqueued_in_a_transaction_that_rolls_back_never_exists() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let mut tx = db.write_deployment().await.unwrap();
        let id = jobs::enqueue(&mut tx, new_job(Some("k"), t(0)), t(0)).await.unwrap().unwrap();
        drop(tx); // rolled back, like a use case that failed after enqueueing
        assert!(jobs::claim(db, "w1", t(10), LEASE, 10).await.unwrap().is_empty(), "{:?}", test.engine);
        let mut c = db.conn().await.unwrap();
        assert_eq!(jobs::get(&mut c, &id).await.unwrap(), None);
        assert!(jobs::list(&mut c, None, None, 10).await.unwrap().is_empty());
        drop(c);
        // The dedupe key was never taken either.
        let id = enqueue(db, new_job(Some("k"), t(0)), t(0)).await.expect("enqueued");
        let claimed = jobs::claim(db, "w1", t(10), LEASE, 10).await.unwrap();
        assert_eq!(claimed.iter().map(|j| &j.id).collect::<Vec<_>>(), vec![&id]);
    }
}

#[tokio::test]
async fn a_dedupe_key_holds_one_job_while_it_is_still_to_run() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let first = enqueue(db, new_job(Some("audit:org:day"), t(0)), t(0)).await.unwrap();
        assert_eq!(enqueue(db, new_job(Some("audit:org:day"), t(0)), t(0)).await, None, "pending holds the key");
        // Without a key, nothing is deduplicated.
        assert!(enqueue(db, new_job(None, t(0)), t(0)).await.is_some());
        assert!(enqueue(db, new_job(None, t(0)), t(0)).await.is_some());

        let claimed = jobs::claim(db, "w1", t(1), LEASE, 10).await.unwrap();
        let mine = claimed.iter().find(|j| j.id == first).unwrap().clone();
        assert_eq!(enqueue(db, new_job(Some("audit:org:day"), t(0)), t(2)).await, None, "running holds it");
        assert!(jobs::fail(db, &mine, t(3), "boom", Some(t(100))).await.unwrap());
        assert_eq!(enqueue(db, new_job(Some("audit:org:day"), t(0)), t(4)).await, None, "failed holds it");

        let again = jobs::claim(db, "w1", t(100), LEASE, 10).await.unwrap();
        let mine = again.iter().find(|j| j.id == first).unwrap();
        assert_eq!(mine.attempts, 2);
        assert!(jobs::complete(db, mine, t(101)).await.unwrap());
        assert!(enqueue(db, new_job(Some("audit:org:day"), t(0)), t(102)).await.is_some(), "done frees the key");
    }
}

#[tokio::test]
async fn claiming_respects_run_at_and_takes_each_job_once() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let now_job = enqueue(db, new_job(None, t(0)), t(0)).await.unwrap();
        let later = enqueue(db, new_job(None, t(3600)), t(0)).await.unwrap();

        let claimed = jobs::claim(db, "w1", t(1), LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "{:?}: only the due job", test.engine);
        assert_eq!(claimed[0].id, now_job);
        assert_eq!((claimed[0].attempts, claimed[0].locked_by.as_deref()), (1, Some("w1")));
        assert_eq!(claimed[0].locked_until, Some(t(61)));
        assert!(jobs::claim(db, "w2", t(2), LEASE, 10).await.unwrap().is_empty(), "held by w1");
        assert_eq!(state(db, &later).await, JobState::Pending);

        let due = jobs::claim(db, "w2", t(3600), LEASE, 10).await.unwrap();
        assert_eq!(
            due.iter().map(|j| &j.id).collect::<HashSet<_>>(),
            HashSet::from([&later, &now_job]),
            "at 3600 s the later job is due and w1's lease has run out"
        );
    }
}

#[tokio::test]
async fn an_expired_lease_passes_the_job_on_and_the_old_claim_records_nothing() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let id = enqueue(db, new_job(None, t(0)), t(0)).await.unwrap();
        let first = jobs::claim(db, "w1", t(0), LEASE, 1).await.unwrap().remove(0);
        // Renewed, the lease holds past its first end.
        assert!(jobs::renew(db, &first, t(100)).await.unwrap());
        assert!(jobs::claim(db, "w2", t(70), LEASE, 1).await.unwrap().is_empty());
        // w1 stops renewing (it died); after the lease w2 takes over.
        let second = jobs::claim(db, "w2", t(101), LEASE, 1).await.unwrap().remove(0);
        assert_eq!((second.id.clone(), second.attempts), (id.clone(), 2));
        assert!(!jobs::complete(db, &first, t(102)).await.unwrap(), "w1's claim is gone");
        assert!(!jobs::renew(db, &first, t(200)).await.unwrap());
        assert!(!jobs::fail(db, &first, t(102), "late", None).await.unwrap());
        assert_eq!(state(db, &id).await, JobState::Running);
        assert!(jobs::complete(db, &second, t(103)).await.unwrap());
        let mut c = db.conn().await.unwrap();
        let done = jobs::get(&mut c, &id).await.unwrap().unwrap();
        assert_eq!((done.state, done.finished_at, done.locked_by), (JobState::Done, Some(t(103)), None));
    }
}

#[tokio::test]
async fn concurrent_claims_never_share_a_job() {
    for test in testing::all_engines().await {
        // Separate pools, as separate instances would have.
        let mut ids = HashSet::new();
        for _ in 0..24 {
            ids.insert(enqueue(&test.db, new_job(None, t(0)), t(0)).await.unwrap());
        }
        let mut claims = Vec::new();
        for w in 0..4 {
            let db = Db::connect(&test.url).await.unwrap();
            claims.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = jobs::claim(&db, &format!("w{w}"), t(1), LEASE, 2).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|j| j.id));
                }
            }));
        }
        let mut seen = Vec::new();
        for c in claims {
            seen.extend(c.await.unwrap());
        }
        assert_eq!(seen.len(), 24, "{:?}: every job claimed exactly once", test.engine);
        assert_eq!(seen.into_iter().collect::<HashSet<_>>(), ids);
    }
}

#[tokio::test]
async fn retry_and_cancel_follow_the_state_rules() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let id = enqueue(db, new_job(Some("once"), t(0)), t(0)).await.unwrap();
        let claimed = jobs::claim(db, "w1", t(0), LEASE, 1).await.unwrap().remove(0);
        let mut tx = db.write_deployment().await.unwrap();
        assert_eq!(jobs::cancel(&mut tx, &id, t(1)).await.unwrap(), Change::Refused(JobState::Running));
        assert_eq!(jobs::retry(&mut tx, &id, t(1)).await.unwrap(), Change::Refused(JobState::Running));
        tx.commit_unaudited().await.unwrap();
        assert!(jobs::fail(db, &claimed, t(2), "gave up", None).await.unwrap());
        assert_eq!(state(db, &id).await, JobState::Dead);

        // While a new job holds the key, the dead one can't come back beside it.
        let other = enqueue(db, new_job(Some("once"), t(0)), t(3)).await.unwrap();
        let mut tx = db.write_deployment().await.unwrap();
        assert_eq!(jobs::retry(&mut tx, &id, t(4)).await.unwrap(), Change::Duplicate);
        let Change::Done(cancelled) = jobs::cancel(&mut tx, &other, t(4)).await.unwrap() else { panic!() };
        assert_eq!(cancelled.state, JobState::Cancelled);
        let Change::Done(back) = jobs::retry(&mut tx, &id, t(5)).await.unwrap() else { panic!() };
        tx.commit_unaudited().await.unwrap();
        assert_eq!((back.state, back.attempts, back.run_at), (JobState::Pending, 0, t(5)));
        assert_eq!(back.last_error.as_deref(), Some("gave up"), "the last error stays until the next attempt");

        let mut tx = db.write_deployment().await.unwrap();
        assert_eq!(jobs::retry(&mut tx, &JobId::new(), t(6)).await.unwrap(), Change::NotFound);
        drop(tx);
        let mut c = db.conn().await.unwrap();
        let dead = jobs::list(&mut c, Some(JobState::Cancelled), Some("test"), 10).await.unwrap();
        assert_eq!(dead.iter().map(|j| &j.id).collect::<Vec<_>>(), vec![&other]);
        assert!(jobs::list(&mut c, Some(JobState::Cancelled), Some("other"), 10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_schedule_period_fires_once() {
    for test in testing::all_engines().await {
        let db = &test.db;
        let mut fired = 0;
        for _ in 0..3 {
            let mut tx = db.write_deployment().await.unwrap();
            if jobs::fire(&mut tx, "audit_retention", t(0), t(1)).await.unwrap() {
                fired += 1;
            }
            tx.commit_unaudited().await.unwrap();
        }
        assert_eq!(fired, 1);
        let mut tx = db.write_deployment().await.unwrap();
        assert!(jobs::fire(&mut tx, "audit_retention", t(86_400), t(86_401)).await.unwrap(), "the next period");
        assert!(jobs::fire(&mut tx, "rollup_upkeep", t(0), t(1)).await.unwrap(), "another schedule");
        tx.commit_unaudited().await.unwrap();
    }
}
