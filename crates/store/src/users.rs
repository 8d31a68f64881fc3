//! People of an organization. Every query names the organization: a user id from
//! another tenant simply isn't found.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use steward_core::ids::{OrgId, UserId};
use steward_core::pagination::Page;
use steward_core::people::{OrgRole, UserStatus};
use steward_core::time::Timestamp;

use crate::StoreResult;
use crate::db::{Conn, WriteTx};
use crate::row::{opt_text, opt_time, parsed, text, time};
use crate::scope::OrgScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: OrgRole,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

const FIELDS: [&str; 10] =
    ["id", "org_id", "email", "name", "role", "status", "password_hash", "created_at", "updated_at", "last_login_at"];
const COLUMNS: &str = "id, org_id, email, name, role, status, password_hash, created_at, updated_at, last_login_at";

fn from_row(r: &AnyRow) -> StoreResult<User> {
    from_prefixed_row(r, "")
}

/// The user columns of table `alias`, named `<prefix><column>`, for queries
/// that join users to something else.
pub(crate) fn columns_as(alias: &str, prefix: &str) -> String {
    FIELDS.iter().map(|f| format!("{alias}.{f} AS {prefix}{f}")).collect::<Vec<_>>().join(", ")
}

pub(crate) fn from_prefixed_row(r: &AnyRow, prefix: &str) -> StoreResult<User> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(User {
        id: UserId::from_trusted(text(r, &col("id"))?),
        org_id: OrgId::from_trusted(text(r, &col("org_id"))?),
        email: text(r, &col("email"))?,
        name: text(r, &col("name"))?,
        role: parsed(r, &col("role"), OrgRole::parse)?,
        status: parsed(r, &col("status"), UserStatus::parse)?,
        password_hash: opt_text(r, &col("password_hash"))?,
        created_at: time(r, &col("created_at"))?,
        updated_at: time(r, &col("updated_at"))?,
        last_login_at: opt_time(r, &col("last_login_at"))?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &OrgScope, u: &User) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, email, name, role, status, password_hash, created_at, updated_at, last_login_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(u.id.as_str())
    .bind(org.as_str())
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.status.as_str())
    .bind(&u.password_hash)
    .bind(u.created_at.millis())
    .bind(u.updated_at.millis())
    .bind(u.last_login_at.map(Timestamp::millis))
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// Writes every mutable field back.
pub async fn update(c: &mut WriteTx, org: &OrgScope, u: &User) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET email = $3, name = $4, role = $5, status = $6, password_hash = $7, updated_at = $8, last_login_at = $9 \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.as_str())
    .bind(u.id.as_str())
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.role.as_str())
    .bind(u.status.as_str())
    .bind(&u.password_hash)
    .bind(u.updated_at.millis())
    .bind(u.last_login_at.map(Timestamp::millis))
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, org: &OrgScope, id: &UserId) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
    crate::row::one(c, sql, vec![org.as_str().into(), id.as_str().into()], from_row).await
}

pub async fn by_email(c: &mut Conn, org: &OrgScope, email: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND email = $2");
    crate::row::one(c, sql, vec![org.as_str().into(), email.into()], from_row).await
}

/// Every user with this email, in any organization (sign-in looks across tenants
/// and then proves which one with the password).
pub async fn by_email_everywhere(c: &mut Conn, email: &str) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1 ORDER BY id LIMIT 20");
    sqlx::query(AssertSqlSafe(sql)).bind(email).fetch_all(c).await?.iter().map(from_row).collect()
}

/// One page, oldest first.
pub async fn list(c: &mut Conn, org: &OrgScope, page: &Page) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    crate::row::all(
        c,
        sql,
        vec![org.as_str().into(), page.after.as_deref().unwrap_or("").into(), page.fetch_limit().into()],
        from_row,
    )
    .await
}

pub async fn delete(c: &mut WriteTx, org: &OrgScope, id: &UserId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM users WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn count_active_super_admins(c: &mut Conn, org: &OrgScope) -> StoreResult<i64> {
    let row: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'super_admin' AND status = 'active'")
            .bind(org.as_str())
            .fetch_one(c)
            .await?;
    Ok(row.0)
}

/// Every active Super Admin: whom members are told to contact.
pub async fn active_super_admins(c: &mut Conn, org: &OrgScope) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE org_id = $1 AND role = 'super_admin' AND status = 'active' ORDER BY name, id"
    );
    crate::row::all(c, sql, vec![org.as_str().into()], from_row).await
}
