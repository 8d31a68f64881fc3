//! One storage story, run on every engine: what the use cases rely on the store
//! for (tenant scoping, uniqueness, hashed lookups, the audit sequence under
//! concurrent writers).

use serde_json::json;
use steward_core::authz::{Actor, Principal};
use steward_core::ids::{ApiKeyId, OrgId, SessionId, UserId};
use steward_core::pagination::Page;
use steward_core::people::{OrgRole, UserStatus};
use steward_core::time::Timestamp;
use steward_store::organizations::Organization;
use steward_store::users::User;
use steward_store::{
    Db, OrgScope, WriteTx, api_keys, audit, migrations, organizations, sessions, setup, testing, users,
};

/// The scope a test acts in, as the system.
fn scope(org: &Organization) -> OrgScope {
    OrgScope::of(&Principal::system("test").in_org(org.id.clone())).unwrap()
}

/// A write of bookkeeping with no event; each statement that may fail gets its
/// own (a failed statement ends a PostgreSQL transaction).
async fn write(db: &Db) -> WriteTx {
    db.write_deployment().await.unwrap()
}

fn org(slug: &str) -> Organization {
    let now = Timestamp::now_utc();
    Organization {
        id: OrgId::new(),
        name: slug.to_uppercase(),
        slug: slug.into(),
        description: None,
        website: None,
        timezone: "UTC".into(),
        workspace_limit: None,
        created_at: now,
        updated_at: now,
    }
}

fn user(org: &OrgId, email: &str, role: OrgRole) -> User {
    let now = Timestamp::now_utc();
    User {
        id: UserId::new(),
        org_id: org.clone(),
        email: email.into(),
        name: "Ana".into(),
        role,
        status: UserStatus::Active,
        password_hash: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    }
}

fn event(org: &OrgId, action: &'static str) -> audit::NewEvent {
    audit::NewEvent {
        org_id: org.clone(),
        action,
        actor: Actor::system("test"),
        target_type: None,
        target_id: None,
        workspace_id: None,
        ip: None,
        user_agent: None,
        changes: json!({"name": {"before": "a", "after": "b"}}),
        metadata: serde_json::Value::Null,
        occurred_at: Timestamp::now_utc(),
    }
}

#[tokio::test]
async fn storage_story_on_every_engine() {
    for t in testing::all_engines().await {
        eprintln!("engine: {}", t.engine.name());
        let db = &t.db;
        // Migrating again is a no-op.
        assert_eq!(migrations::run(db).await.unwrap(), 0);

        let (acme, globex) = (org("acme"), org("globex"));
        let mut tx = write(db).await;
        organizations::insert(&mut tx, &acme).await.unwrap();
        organizations::insert(&mut tx, &globex).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        let (a, g) = (scope(&acme), scope(&globex));

        let mut c = db.conn().await.unwrap();
        assert_eq!(organizations::count(&mut c).await.unwrap(), 2);
        assert_eq!(organizations::by_slug(&mut c, "acme").await.unwrap().unwrap(), acme);
        assert!(organizations::slug_taken(&mut c, "acme", None).await.unwrap());
        assert!(!organizations::slug_taken(&mut c, "acme", Some(&acme.id)).await.unwrap());

        // A duplicate slug is a unique violation the use case can recognise.
        let err = organizations::insert(&mut write(db).await, &org("acme")).await.unwrap_err();
        assert!(err.is_unique_violation(), "{err}");

        // Users are scoped by organization; the same email may exist in two.
        let ana = user(&acme.id, "ana@example.com", OrgRole::SuperAdmin);
        let ana2 = user(&globex.id, "ana@example.com", OrgRole::Member);
        let mut tx = write(db).await;
        users::insert(&mut tx, &a, &ana).await.unwrap();
        users::insert(&mut tx, &g, &ana2).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        assert!(
            users::insert(&mut write(db).await, &a, &user(&acme.id, "ana@example.com", OrgRole::Member))
                .await
                .unwrap_err()
                .is_unique_violation()
        );
        assert_eq!(users::get(&mut c, &a, &ana.id).await.unwrap().unwrap(), ana);
        assert!(users::get(&mut c, &g, &ana.id).await.unwrap().is_none(), "other tenant's user must not be found");
        assert_eq!(users::by_email_everywhere(&mut c, "ana@example.com").await.unwrap().len(), 2);
        assert_eq!(users::count_active_super_admins(&mut c, &a).await.unwrap(), 1);
        assert!(!users::delete(&mut write(db).await, &g, &ana.id).await.unwrap());

        // Pagination walks every row once.
        let mut tx = write(db).await;
        for i in 0..5 {
            users::insert(&mut tx, &a, &user(&acme.id, &format!("u{i}@example.com"), OrgRole::Member)).await.unwrap();
        }
        tx.commit_unaudited().await.unwrap();
        let mut seen = 0;
        let mut page = Page::parse(Some(2), None).unwrap();
        loop {
            let rows = users::list(&mut c, &a, &page).await.unwrap();
            let (rows, next) = steward_core::pagination::finish(rows, &page, |u| u.id.to_string());
            seen += rows.len();
            match next {
                Some(cur) => page = Page::parse(Some(2), Some(&cur)).unwrap(),
                None => break,
            }
        }
        assert_eq!(seen, 6);

        // Sessions are found by token hash with their user's role and status.
        let now = Timestamp::now_utc();
        let s = sessions::Session {
            id: SessionId::new(),
            org_id: acme.id.clone(),
            user_id: ana.id.clone(),
            token_hash: "h1".into(),
            csrf_token: "c".into(),
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            created_at: now,
            last_seen_at: now,
            idle_expires_at: now.plus_seconds(60),
            absolute_expires_at: now.plus_seconds(3600),
            idle_secs: 60,
            reauth_at: now,
        };
        let mut tx = write(db).await;
        sessions::insert(&mut tx, &a, &s).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        let found = sessions::by_token_hash(&mut c, "h1").await.unwrap().unwrap();
        assert_eq!((found.user.email.as_str(), found.org.slug.as_str()), ("ana@example.com", "acme"));
        assert_eq!(
            (found.user.role, found.user.status, found.session.id.clone()),
            (OrgRole::SuperAdmin, UserStatus::Active, s.id.clone())
        );
        let mut tx = write(db).await;
        assert_eq!(sessions::delete_for_user(&mut tx, &g, &ana.id).await.unwrap(), 0);
        assert_eq!(sessions::delete_for_user(&mut tx, &a, &ana.id).await.unwrap(), 1);
        tx.commit_unaudited().await.unwrap();

        // API keys: hashed lookup, scoped revoke, scopes round-trip.
        let key = api_keys::ApiKey {
            id: ApiKeyId::new(),
            org_id: acme.id.clone(),
            name: "ci".into(),
            prefix: "stw_live_abcd".into(),
            last4: "wxyz".into(),
            key_hash: "kh".into(),
            scopes: vec!["read".into(), "credits:debit".into()],
            rate_limit_per_minute: 42,
            created_by: Some(ana.id.clone()),
            created_by_name: Some("ana@example.com".into()),
            created_at: now,
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        };
        let mut tx = write(db).await;
        api_keys::insert(&mut tx, &a, &key).await.unwrap();
        tx.commit_unaudited().await.unwrap();
        let found = api_keys::by_hash(&mut c, "kh").await.unwrap().unwrap();
        assert_eq!(found.key.rate_limit_per_minute, 42, "the limit round-trips");
        assert_eq!(
            (found.key.scopes, found.org.slug),
            (vec!["read".to_owned(), "credits:debit".to_owned()], "acme".into())
        );
        api_keys::touch(&mut c, &key.id, now).await.unwrap();
        assert_eq!(api_keys::get(&mut c, &a, &key.id).await.unwrap().unwrap().last_used_at, Some(now));
        let mut tx = write(db).await;
        assert!(!api_keys::revoke(&mut tx, &g, &key.id, now).await.unwrap());
        assert!(api_keys::revoke(&mut tx, &a, &key.id, now).await.unwrap());
        tx.commit_unaudited().await.unwrap();
        assert!(api_keys::get(&mut c, &a, &key.id).await.unwrap().is_none());

        // Setup tokens are single use.
        setup::replace_token(&mut c, "t1", now).await.unwrap();
        assert!(!setup::consume(&mut c, "t0").await.unwrap());
        assert!(setup::consume(&mut c, "t1").await.unwrap());
        assert!(!setup::consume(&mut c, "t1").await.unwrap());
        drop(c);

        // Concurrent writers each get their own sequence number, no gaps.
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let (db, org_id, a) = (db.clone(), acme.id.clone(), a.clone());
            tasks.push(tokio::spawn(async move {
                let mut tx = db.write(&a).await.unwrap();
                let done = audit::append(&mut tx, event(&org_id, "organization.updated")).await.unwrap();
                tx.commit(done).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // A rolled-back write leaves no event.
        let mut tx = db.write(&a).await.unwrap();
        audit::append(&mut tx, event(&acme.id, "user.invited")).await.unwrap();
        drop(tx);

        let mut c = db.conn().await.unwrap();
        let events = audit::list(&mut c, &a, &Page::parse(Some(200), None).unwrap()).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=12).rev().collect::<Vec<_>>());
        assert_eq!(audit::verify(&mut c, &a).await.unwrap(), Ok(12), "concurrent writers never fork the chain");
        assert_eq!(events[0].changes, json!({"name": {"before": "a", "after": "b"}}));
        assert_eq!(audit::count(&mut c, &g).await.unwrap(), 0);
    }
}
