//! The audit trail's storage rules, on every engine: times never go
//! backwards, date filters are exact at their bounds, the export path returns
//! what the page path returns, and bulk appends keep the chain.

use serde_json::{Value, json};
use steward_core::authz::{Actor, ActorKind, Principal};
use steward_core::ids::OrgId;
use steward_core::time::Timestamp;
use steward_store::audit::{self, AuditEvent, Filter, NewEvent};
use steward_store::organizations::{self, Organization};
use steward_store::{Db, OrgScope, testing};

async fn new_org(db: &Db, slug: &str) -> OrgScope {
    let at = Timestamp::from_millis(0);
    let org = Organization {
        id: OrgId::new(),
        name: slug.into(),
        slug: slug.into(),
        description: None,
        website: None,
        timezone: "UTC".into(),
        workspace_limit: None,
        created_at: at,
        updated_at: at,
    };
    let mut tx = db.write_deployment().await.unwrap();
    organizations::insert(&mut tx, &org).await.unwrap();
    tx.commit_unaudited().await.unwrap();
    OrgScope::of(&Principal::system("test").in_org(org.id)).unwrap()
}

fn event(org: &OrgId, action: &'static str, at_ms: i64, n: usize) -> NewEvent {
    NewEvent {
        org_id: org.clone(),
        action,
        actor: Actor {
            kind: ActorKind::User,
            id: Some(format!("usr_{:032x}", n % 3)),
            name: Some("ana@acme.example".into()),
        },
        target_type: Some("workspace"),
        target_id: Some(format!("ws_{:032x}", n % 5)),
        workspace_id: n.is_multiple_of(2).then(|| format!("ws_{:032x}", n % 5)),
        ip: None,
        user_agent: Some("agent \"quoted\", with comma".into()),
        // Text that JSON packing must carry unchanged: quotes, unicode, nesting.
        changes: if n.is_multiple_of(4) {
            json!({ "name": { "before": "Zoë \"Z\"", "after": "Zoë\n2" } })
        } else {
            Value::Null
        },
        metadata: if n.is_multiple_of(7) { json!({ "n": n, "list": [1, 2] }) } else { Value::Null },
        occurred_at: Timestamp::from_millis(at_ms),
    }
}

async fn append(db: &Db, e: NewEvent) {
    let mut tx = db.write_deployment().await.unwrap();
    let done = audit::append(&mut tx, e).await.unwrap();
    tx.commit(done).await.unwrap();
}

async fn search(db: &Db, org: &OrgScope, f: &Filter, limit: i64) -> Vec<AuditEvent> {
    let mut c = db.conn().await.unwrap();
    audit::search(&mut c, org, f, limit).await.unwrap()
}

fn seqs(events: &[AuditEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn times_never_go_backwards_and_date_filters_are_exact() {
    for t in testing::all_engines().await {
        eprintln!("engine: {}", t.engine.name());
        let org = new_org(&t.db, "acme").await;
        // seq 1..=4 at 1000, 2000, 2000 (asked 1500: clamped), 3000.
        for (n, at) in [1000, 2000, 1500, 3000].into_iter().enumerate() {
            append(&t.db, event(&org, "workspace.updated", at, n)).await;
        }
        let all = search(&t.db, &org, &Filter::default(), 10).await;
        let times: Vec<i64> = all.iter().rev().map(|e| e.occurred_at.millis()).collect();
        assert_eq!(times, [1000, 2000, 2000, 3000], "an event dated before the newest one takes its time");

        let range = |from: Option<i64>, to: Option<i64>| Filter {
            from: from.map(Timestamp::from_millis),
            to: to.map(Timestamp::from_millis),
            ..Filter::default()
        };
        for (from, to, expected) in [
            (Some(2000), None, vec![4, 3, 2]),
            (Some(2001), None, vec![4]),
            (Some(3001), None, vec![]),
            (None, Some(2000), vec![1]),
            (None, Some(2001), vec![3, 2, 1]),
            (None, Some(1000), vec![]),
            (Some(1000), Some(3000), vec![3, 2, 1]),
            (Some(2500), Some(2600), vec![]),
        ] {
            let got = seqs(&search(&t.db, &org, &range(from, to), 10).await);
            assert_eq!(got, expected, "from {from:?} to {to:?}");
        }
        // Combined with another filter and a cursor.
        let f = Filter { before_seq: Some(3), action: Some("workspace.updated".into()), ..range(Some(1000), None) };
        assert_eq!(seqs(&search(&t.db, &org, &f, 10).await), [2, 1]);
    }
}

#[tokio::test]
async fn bulk_appends_chain_and_the_export_path_matches_the_page_path() {
    for t in testing::all_engines().await {
        eprintln!("engine: {}", t.engine.name());
        let (org, other) = (new_org(&t.db, "acme").await, new_org(&t.db, "globex").await);
        append(&t.db, event(&other, "session.created", 10, 0)).await;
        // More rows than one INSERT statement carries, so chunks must chain.
        let actions = ["workspace.updated", "session.created", "user.invited", "workspace.suspended"];
        let events: Vec<NewEvent> =
            (0..2_500).map(|n| event(&org, actions[n % actions.len()], 1_000 + n as i64, n)).collect();
        let mut tx = t.db.write(&org).await.unwrap();
        let done = audit::append_many(&mut tx, &org, events).await.unwrap();
        tx.commit(done).await.unwrap();
        append(&t.db, event(&org, "user.invited", 0, 2_500)).await;

        let mut c = t.db.conn().await.unwrap();
        assert_eq!(audit::count(&mut c, &org).await.unwrap(), 2_501);
        assert_eq!(audit::verify(&mut c, &org).await.unwrap(), Ok(2_501));
        assert_eq!(audit::count(&mut c, &other).await.unwrap(), 1, "other organizations are untouched");

        let filters = [
            Filter::default(),
            Filter { action_group: Some("workspace".into()), ..Filter::default() },
            Filter { action: Some("user.invited".into()), before_seq: Some(2_000), ..Filter::default() },
            Filter {
                actor_id: Some(format!("usr_{:032x}", 1)),
                workspace_id: Some(format!("ws_{:032x}", 4)),
                ..Filter::default()
            },
            Filter {
                from: Some(Timestamp::from_millis(1_500)),
                to: Some(Timestamp::from_millis(1_600)),
                ..Filter::default()
            },
            Filter { target_id: Some("nothing".into()), ..Filter::default() },
        ];
        for f in &filters {
            for limit in [1, 50, 1_000, 5_000] {
                let pages = audit::search(&mut c, &org, f, limit).await.unwrap();
                let batch = audit::search_batch(&mut c, &org, f, limit).await.unwrap();
                assert_eq!(pages, batch, "{f:?} limit {limit}");
            }
        }
        let group = audit::search(&mut c, &org, &filters[1], 5_000).await.unwrap();
        assert_eq!(group.len(), 1_250);
        assert!(group.iter().all(|e| e.action.starts_with("workspace.")));

        // Retention in steps: at most `max` of the oldest go each time, and the
        // rest still verifies from the new anchor.
        let now = Timestamp::from_millis(10_000);
        let mut tx = t.db.write(&org).await.unwrap();
        let step = audit::purge_before(&mut tx, &org, Timestamp::from_millis(1_250), now, 100).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        assert_eq!(step, (100, Some(100)));
        assert_eq!(audit::verify(&mut c, &org).await.unwrap(), Ok(2_401));
        let mut tx = t.db.write(&org).await.unwrap();
        let step = audit::purge_before(&mut tx, &org, Timestamp::from_millis(1_250), now, 1_000).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        assert_eq!(step, (150, Some(250)), "only events before the cutoff go");
        assert_eq!(audit::verify(&mut c, &org).await.unwrap(), Ok(2_251));

        // The group column is outside the hash but filters rely on it: editing it is caught.
        sqlx::query("UPDATE audit_events SET action_group = 'session' WHERE org_id = $1 AND seq = 700")
            .bind(org.as_str())
            .execute(&mut *c)
            .await
            .unwrap();
        let broken = audit::verify(&mut c, &org).await.unwrap().unwrap_err();
        assert_eq!(broken.seq, 700);
        assert!(broken.reason.contains("group"), "{}", broken.reason);
    }
}
