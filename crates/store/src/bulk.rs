//! Many rows at once, for the demo seeder and benchmarks: multi-row `INSERT`s
//! sized to stay under both engines' bound-parameter limits.

use sqlx::AssertSqlSafe;

use crate::StoreResult;
use crate::db::Conn;
pub use crate::row::Arg;
use crate::row::bind_all;

/// Parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// Inserts `rows` (each with one value per column) into `table`.
pub async fn insert(
    c: &mut Conn,
    table: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<Arg>>,
) -> StoreResult<()> {
    let per_statement = (MAX_PARAMS / columns.len()).clamp(1, 1000);
    // SQLite looks numbered parameters up by name, one linear scan each (so a
    // statement with n of them binds in n² steps); anonymous ones bind directly.
    let numbered = crate::db::Engine::of(c) == crate::db::Engine::Postgres;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Arg>> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut args = Vec::with_capacity(chunk.len() * columns.len());
        for (i, row) in chunk.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                args.push(value);
                if numbered {
                    sql.push_str(&format!("${}", args.len()));
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), args).execute(&mut *c).await?;
    }
    Ok(())
}

/// Refreshes the planner's statistics after a bulk load (and, on PostgreSQL,
/// the visibility map, so counts can use index-only scans right away).
pub async fn analyze(c: &mut Conn) -> StoreResult<()> {
    let sql = if crate::db::Engine::of(c) == crate::db::Engine::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::raw_sql(sql).execute(c).await?;
    Ok(())
}

/// The emails of an organization's people and the slugs of its workspaces,
/// so a seeder can pick names nobody has yet.
pub async fn taken_names(
    c: &mut Conn,
    org: &crate::OrgScope,
) -> StoreResult<(std::collections::HashSet<String>, std::collections::HashSet<String>)> {
    let emails: Vec<String> =
        sqlx::query_scalar("SELECT email FROM users WHERE org_id = $1").bind(org.as_str()).fetch_all(&mut *c).await?;
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM workspaces WHERE org_id = $1")
        .bind(org.as_str())
        .fetch_all(&mut *c)
        .await?;
    Ok((emails.into_iter().collect(), slugs.into_iter().collect()))
}
