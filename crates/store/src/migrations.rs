//! Schema migrations: one ordered list of SQL files for both engines, applied in
//! one transaction and recorded in `steward_migrations`. Two instances starting
//! at once on PostgreSQL queue on a table lock instead of racing.

use sqlx::Row;

use crate::StoreResult;
use crate::db::{Db, Engine};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("migrations/0001_foundation.sql") },
    Migration { version: 2, name: "workspaces", sql: include_str!("migrations/0002_workspaces.sql") },
    Migration { version: 3, name: "security", sql: include_str!("migrations/0003_security.sql") },
    Migration { version: 4, name: "two_factor", sql: include_str!("migrations/0004_two_factor.sql") },
    Migration { version: 5, name: "audit_filters", sql: include_str!("migrations/0005_audit_filters.sql") },
    Migration { version: 6, name: "audit_chain", sql: include_str!("migrations/0006_audit_chain.sql") },
    Migration { version: 7, name: "audit_groups", sql: include_str!("migrations/0007_audit_groups.sql") },
    Migration { version: 8, name: "sealing", sql: include_str!("migrations/0008_sealing.sql") },
    Migration { version: 9, name: "files", sql: include_str!("migrations/0009_files.sql") },
    Migration { version: 10, name: "jobs", sql: include_str!("migrations/0010_jobs.sql") },
    Migration { version: 11, name: "job_started", sql: include_str!("migrations/0011_job_started.sql") },
    Migration { version: 12, name: "known_devices", sql: include_str!("migrations/0012_known_devices.sql") },
    Migration { version: 13, name: "api_key_limits", sql: include_str!("migrations/0013_api_key_limits.sql") },
    Migration { version: 14, name: "webhooks", sql: include_str!("migrations/0014_webhooks.sql") },
    Migration { version: 15, name: "credits", sql: include_str!("migrations/0015_credits.sql") },
    Migration { version: 16, name: "reports", sql: include_str!("migrations/0016_reports.sql") },
];

/// Applies every migration not yet applied; returns how many ran.
pub async fn run(db: &Db) -> StoreResult<usize> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS steward_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(db.pool())
    .await?;
    let mut tx = db.begin().await?;
    if db.engine() == Engine::Postgres {
        sqlx::raw_sql("LOCK TABLE steward_migrations IN EXCLUSIVE MODE").execute(&mut *tx).await?;
    }
    let applied: Vec<i64> = sqlx::query("SELECT version FROM steward_migrations")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let mut ran = 0;
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        for statement in statements(m.sql) {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO steward_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(steward_core::time::Timestamp::now_utc().millis())
            .execute(&mut *tx)
            .await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        ran += 1;
    }
    tx.commit().await?;
    Ok(ran)
}

/// Splits a migration file into statements. Comment lines are dropped first;
/// statements themselves never contain `;` inside strings.
fn statements(sql: &str) -> Vec<String> {
    let without_comments: String =
        sql.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect();
    without_comments.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}
