//! The test harness every storage-touching test uses: one fresh database per
//! engine. SQLite always (a file in a temporary folder); PostgreSQL when
//! `STEWARD_TEST_DATABASE_URL` is set, as a new database created for the test and
//! dropped afterwards. Under `CI=true` a missing PostgreSQL fails instead of
//! skipping.

use crate::db::{Db, Engine, sqlite_url};
use crate::migrations;

pub const TEST_DATABASE_URL_VAR: &str = "STEWARD_TEST_DATABASE_URL";

/// A migrated, empty database that cleans up after itself.
pub struct TestDb {
    pub db: Db,
    pub engine: Engine,
    /// The URL the test database answers on (for a server started in a test).
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    PgDatabase { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::PgDatabase { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a short-lived runtime on its own thread does the work.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(admin.pool()).await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The PostgreSQL URL to test against, if any. Panics under CI when it is missing,
/// so a CI run can't pass by silently skipping PostgreSQL.
pub fn postgres_url() -> Option<String> {
    match std::env::var(TEST_DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{TEST_DATABASE_URL_VAR} is not set, and CI=true requires the PostgreSQL tests to run")
        }
        _ => {
            eprintln!(
                "skipping PostgreSQL: set {TEST_DATABASE_URL_VAR}=postgres://… to run these tests on PostgreSQL too"
            );
            None
        }
    }
}

/// A fresh SQLite database.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = sqlite_url(dir.path());
    let db = Db::connect(&url).await.expect("open SQLite");
    migrations::run(&db).await.expect("migrate SQLite");
    TestDb { db, engine: Engine::Sqlite, url, _cleanup: Cleanup::Dir(dir) }
}

/// Connects, trying again for a while: the pool gives up on a connection
/// after 1.5 s (so a server without its database answers fast), which a
/// fully loaded two-core test machine can exceed while it opens one.
async fn connect_patiently(url: &str) -> crate::StoreResult<Db> {
    let mut tries = 0;
    loop {
        match Db::connect(url).await {
            Err(e) if tries < 5 => {
                tries += 1;
                eprintln!("connecting to PostgreSQL failed ({e}); trying again");
                tokio::time::sleep(std::time::Duration::from_millis(500 * tries)).await;
            }
            done => return done,
        }
    }
}

/// A fresh PostgreSQL database, or none when PostgreSQL isn't configured.
pub async fn postgres() -> Option<TestDb> {
    let admin_url = postgres_url()?;
    let name = format!("steward_test_{}", uuid::Uuid::now_v7().simple());
    let admin = connect_patiently(&admin_url).await.expect("connect to STEWARD_TEST_DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(admin.pool())
        .await
        .expect("create test database");
    admin.close().await;
    let url = with_database(&admin_url, &name);
    let db = connect_patiently(&url).await.expect("connect to the test database");
    migrations::run(&db).await.expect("migrate PostgreSQL");
    Some(TestDb { db, engine: Engine::Postgres, url, _cleanup: Cleanup::PgDatabase { admin_url, name } })
}

/// Every engine this run tests: SQLite, then PostgreSQL when configured.
pub async fn all_engines() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    out.extend(postgres().await);
    out
}

/// The same URL pointing at another database.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // postgres://user@host:port/db → replace what follows the authority's slash.
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_swapped() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(super::with_database("postgres://h/test?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
