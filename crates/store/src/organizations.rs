//! Organizations (tenants).

use sqlx::Row;
use sqlx::any::AnyRow;
use steward_core::ids::OrgId;
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, Engine, WriteTx};
use crate::row::{opt_text, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub website: Option<String>,
    /// IANA zone for "this week" and "this month" on the dashboard.
    pub timezone: String,
    /// How many non-archived workspaces the plan allows; none means unlimited.
    pub workspace_limit: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a request needs to say which organization it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSummary {
    pub id: OrgId,
    pub name: String,
    pub slug: String,
}

const COLUMNS: &str = "id, name, slug, description, website, timezone, workspace_limit, created_at, updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Organization> {
    Ok(Organization {
        id: OrgId::from_trusted(text(r, "id")?),
        name: text(r, "name")?,
        slug: text(r, "slug")?,
        description: opt_text(r, "description")?,
        website: opt_text(r, "website")?,
        timezone: text(r, "timezone")?,
        workspace_limit: r.try_get::<Option<i64>, _>("workspace_limit")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &Organization) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO organizations (id, name, slug, description, website, timezone, workspace_limit, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(org.id.as_str())
    .bind(&org.name)
    .bind(&org.slug)
    .bind(&org.description)
    .bind(&org.website)
    .bind(&org.timezone)
    .bind(org.workspace_limit)
    .bind(org.created_at.millis())
    .bind(org.updated_at.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn update(c: &mut WriteTx, scope: &OrgScope, org: &Organization) -> StoreResult<()> {
    sqlx::query(
        "UPDATE organizations SET name = $2, slug = $3, description = $4, website = $5, timezone = $6, workspace_limit = $7, \
         updated_at = $8 WHERE id = $1",
    )
    .bind(scope.as_str())
    .bind(&org.name)
    .bind(&org.slug)
    .bind(&org.description)
    .bind(&org.website)
    .bind(&org.timezone)
    .bind(org.workspace_limit)
    .bind(org.updated_at.millis())
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// The scope's organization. Operator commands find one by slug first ([`by_slug`]).
pub async fn get(c: &mut Conn, id: &OrgScope) -> StoreResult<Option<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.as_str()).fetch_optional(c).await?.as_ref().map(from_row).transpose()
}

pub async fn by_slug(c: &mut Conn, slug: &str) -> StoreResult<Option<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(slug).fetch_optional(c).await?.as_ref().map(from_row).transpose()
}

pub async fn list(c: &mut Conn) -> StoreResult<Vec<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations ORDER BY slug");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?.iter().map(from_row).collect()
}

pub async fn count(c: &mut Conn) -> StoreResult<i64> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organizations").fetch_one(c).await?;
    Ok(row.0)
}

pub async fn slug_taken(c: &mut Conn, slug: &str, except: Option<&OrgId>) -> StoreResult<bool> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organizations WHERE slug = $1 AND id <> $2")
        .bind(slug)
        .bind(except.map(OrgId::as_str).unwrap_or(""))
        .fetch_one(c)
        .await?;
    Ok(row.0 > 0)
}

/// Serializes writers within one organization until the transaction ends
/// (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds
/// the database's single write lock). Rules that span rows ("at least one Super
/// Admin", the audit sequence) rely on it.
pub async fn lock(c: &mut Conn, id: &OrgId) -> StoreResult<()> {
    if Engine::of(c) == Engine::Postgres {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE").bind(id.as_str()).execute(c).await?;
    }
    Ok(())
}
