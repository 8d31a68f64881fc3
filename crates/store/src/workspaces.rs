//! Workspaces of an organization, their members, and their counters.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use steward_core::ids::{OrgId, UserId, WorkspaceId};
use steward_core::time::Timestamp;
use steward_core::workspaces::{WorkspaceRole, WorkspaceStatus};

use crate::StoreResult;
use crate::db::{Conn, Engine, WriteTx};
use crate::row::{Arg, Sql, bind_all, int, like_pattern, opt_text, opt_time, parsed, text, time};
use crate::scope::{OrgScope, WorkspaceScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub org_id: OrgId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub timezone: String,
    pub default_language: String,
    pub status: WorkspaceStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<Timestamp>,
    /// Where an archived workspace returns when restored.
    pub restore_status: Option<WorkspaceStatus>,
    pub member_count: i64,
    pub campaign_count: i64,
    pub storage_bytes: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "w.id, w.org_id, w.name, w.slug, w.description, w.timezone, w.default_language, w.status, w.status_reason, \
    w.status_changed_at, w.restore_status, w.member_count, w.campaign_count, w.storage_bytes, w.created_at, w.updated_at";

fn from_row(r: &AnyRow) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: WorkspaceId::from_trusted(text(r, "id")?),
        org_id: OrgId::from_trusted(text(r, "org_id")?),
        name: text(r, "name")?,
        slug: text(r, "slug")?,
        description: opt_text(r, "description")?,
        timezone: text(r, "timezone")?,
        default_language: text(r, "default_language")?,
        status: parsed(r, "status", WorkspaceStatus::parse)?,
        status_reason: opt_text(r, "status_reason")?,
        status_changed_at: opt_time(r, "status_changed_at")?,
        restore_status: opt_text(r, "restore_status")?.as_deref().and_then(WorkspaceStatus::parse),
        member_count: int(r, "member_count")?,
        campaign_count: int(r, "campaign_count")?,
        storage_bytes: int(r, "storage_bytes")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
    })
}

pub async fn insert(c: &mut WriteTx, org: &OrgScope, w: &Workspace) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, org_id, name, slug, description, timezone, default_language, status, status_reason, \
         status_changed_at, restore_status, member_count, campaign_count, storage_bytes, created_at, updated_at, sort_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, 0, $12, $13, $14)",
    )
    .bind(w.id.as_str())
    .bind(org.as_str())
    .bind(&w.name)
    .bind(&w.slug)
    .bind(&w.description)
    .bind(&w.timezone)
    .bind(&w.default_language)
    .bind(w.status.as_str())
    .bind(&w.status_reason)
    .bind(w.status_changed_at.map(Timestamp::millis))
    .bind(w.restore_status.map(|s| s.as_str()))
    .bind(w.created_at.millis())
    .bind(w.updated_at.millis())
    .bind(sort_name(&w.name))
    .execute(&mut **c)
    .await?;
    Ok(())
}

/// The key the list sorts names by: lower-case, compared byte-wise.
pub fn sort_name(name: &str) -> String {
    name.to_lowercase()
}

/// Writes the editable fields and the status fields (counters are adjusted separately).
pub async fn update(c: &mut WriteTx, ws: &WorkspaceScope, w: &Workspace) -> StoreResult<()> {
    sqlx::query(
        "UPDATE workspaces SET name = $3, slug = $4, description = $5, timezone = $6, default_language = $7, status = $8, \
         status_reason = $9, status_changed_at = $10, restore_status = $11, updated_at = $12, sort_name = $13 \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(ws.org_id().as_str())
    .bind(ws.id().as_str())
    .bind(&w.name)
    .bind(&w.slug)
    .bind(&w.description)
    .bind(&w.timezone)
    .bind(&w.default_language)
    .bind(w.status.as_str())
    .bind(&w.status_reason)
    .bind(w.status_changed_at.map(Timestamp::millis))
    .bind(w.restore_status.map(|s| s.as_str()))
    .bind(w.updated_at.millis())
    .bind(sort_name(&w.name))
    .execute(&mut **c)
    .await?;
    Ok(())
}

pub async fn get(c: &mut Conn, org: &OrgScope, id: &WorkspaceId) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.id = $2");
    crate::row::one(c, sql, vec![org.as_str().into(), id.as_str().into()], from_row).await
}

pub async fn by_slug(c: &mut Conn, org: &OrgScope, slug: &str) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces w WHERE w.org_id = $1 AND w.slug = $2");
    crate::row::one(c, sql, vec![org.as_str().into(), slug.into()], from_row).await
}

/// (id, name) of those of `ids` that exist in the organization: names for a
/// page of rows that mention workspaces, however many the organization has.
pub async fn names(c: &mut Conn, org: &OrgScope, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT id, name FROM workspaces WHERE org_id = ");
    sql.push("?", [Arg::Text(org.to_string())]);
    sql.push_list(" AND id IN ", ids.iter().map(|id| Arg::Text(id.clone())));
    let (query, args) = sql.query();
    let rows = bind_all(sqlx::query(AssertSqlSafe(query)), args).fetch_all(c).await?;
    rows.iter().map(|r| Ok((text(r, "id")?, text(r, "name")?))).collect()
}

pub async fn slug_taken(c: &mut Conn, org: &OrgScope, slug: &str, except: Option<&WorkspaceId>) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workspaces WHERE org_id = $1 AND slug = $2 AND id <> $3")
        .bind(org.as_str())
        .bind(slug)
        .bind(except.map(WorkspaceId::as_str).unwrap_or(""))
        .fetch_one(c)
        .await?;
    Ok(n > 0)
}

/// Slugs in use that start with `base` (to find a free `base-2`, `base-3` …).
pub async fn slugs_like(c: &mut Conn, org: &OrgScope, base: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT slug FROM workspaces WHERE org_id = $1 AND (slug = $2 OR slug LIKE $3)")
            .bind(org.as_str())
            .bind(base)
            .bind(format!("{base}-%"))
            .fetch_all(c)
            .await?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}

/// Workspaces that count toward the plan: every one not archived.
pub async fn count_counted(c: &mut Conn, org: &OrgScope) -> StoreResult<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workspaces WHERE org_id = $1 AND status <> 'archived'")
        .bind(org.as_str())
        .fetch_one(c)
        .await?;
    Ok(n)
}

pub async fn delete(c: &mut WriteTx, ws: &WorkspaceScope) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM workspaces WHERE org_id = $1 AND id = $2")
        .bind(ws.org_id().as_str())
        .bind(ws.id().as_str())
        .execute(&mut **c)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Which counter a change moves.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Members,
    Campaigns,
    StorageBytes,
}

pub(crate) async fn adjust(c: &mut Conn, id: &WorkspaceId, counter: Counter, delta: i64) -> StoreResult<()> {
    let sql = match counter {
        Counter::Members => "UPDATE workspaces SET member_count = member_count + $2 WHERE id = $1",
        Counter::Campaigns => "UPDATE workspaces SET campaign_count = campaign_count + $2 WHERE id = $1",
        Counter::StorageBytes => "UPDATE workspaces SET storage_bytes = storage_bytes + $2 WHERE id = $1",
    };
    sqlx::query(sql).bind(id.as_str()).bind(delta).execute(c).await?;
    Ok(())
}

/// Sort orders of the workspace list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    CreatedAt,
    Members,
    Campaigns,
}

impl SortKey {
    /// The sort column; names compare byte-wise (PostgreSQL's `"C"` collation is
    /// SQLite's default), so both engines order and page alike.
    fn column(self, engine: Engine) -> &'static str {
        match self {
            SortKey::Name if engine == Engine::Postgres => "w.sort_name COLLATE \"C\"",
            SortKey::Name => "w.sort_name",
            SortKey::CreatedAt => "w.created_at",
            SortKey::Members => "w.member_count",
            SortKey::Campaigns => "w.campaign_count",
        }
    }

    pub fn is_text(self) -> bool {
        self == SortKey::Name
    }
}

/// Where a page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Text(String),
    Int(i64),
}

#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Statuses to include.
    pub statuses: Vec<WorkspaceStatus>,
    /// Lower-cased search in names.
    pub query: Option<String>,
    /// Only workspaces this user is a member of (for members).
    pub member: Option<UserId>,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<(SortValue, String)>,
    pub limit: i64,
}

pub async fn list(c: &mut Conn, org: &OrgScope, f: &ListFilter) -> StoreResult<Vec<Workspace>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM workspaces w"));
    if let Some(user) = &f.member {
        sql.push(" JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?", [Arg::Text(user.to_string())]);
    }
    sql.push(" WHERE w.org_id = ?", [Arg::Text(org.to_string())]);
    if !f.statuses.is_empty() {
        sql.push_list(" AND w.status IN ", f.statuses.iter().map(|s| Arg::Text(s.as_str().into())));
    }
    if let Some(q) = &f.query {
        sql.push(" AND LOWER(w.name) LIKE ? ESCAPE '\\'", [Arg::Text(like_pattern(q))]);
    }
    let col = f.sort.column(Engine::of(c));
    let op = if f.descending { "<" } else { ">" };
    if let Some((value, id)) = &f.after {
        let v = match value {
            SortValue::Text(s) => Arg::Text(s.clone()),
            SortValue::Int(i) => Arg::Int(*i),
        };
        sql.push(&format!(" AND ({col} {op} ? OR ({col} = ? AND w.id {op} ?))"), [v.clone(), v, Arg::Text(id.clone())]);
    }
    let dir = if f.descending { "DESC" } else { "ASC" };
    sql.push(&format!(" ORDER BY {col} {dir}, w.id {dir} LIMIT ?"), [Arg::Int(f.limit)]);
    let (text, args) = sql.query();
    bind_all(sqlx::query(AssertSqlSafe(text)), args).fetch_all(c).await?.iter().map(from_row).collect()
}

// ---- members ----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: WorkspaceRole,
    pub email: String,
    pub name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub async fn role_of(c: &mut Conn, ws: &WorkspaceScope, user: &UserId) -> StoreResult<Option<WorkspaceRole>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 AND org_id = $3")
            .bind(ws.id().as_str())
            .bind(user.as_str())
            .bind(ws.org_id().as_str())
            .fetch_optional(c)
            .await?;
    Ok(row.and_then(|(r,)| WorkspaceRole::parse(&r)))
}

/// Whether a user of the organization is a member of one of its workspaces.
pub async fn is_member(c: &mut Conn, org: &OrgScope, ws: &WorkspaceId, user: &UserId) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM workspace_members WHERE org_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(org.as_str())
    .bind(ws.as_str())
    .bind(user.as_str())
    .fetch_one(c)
    .await?;
    Ok(n > 0)
}

pub async fn members(c: &mut Conn, ws: &WorkspaceScope, after: Option<&str>, limit: i64) -> StoreResult<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT m.workspace_id, m.user_id, m.role, u.email, u.name, m.created_at, m.updated_at FROM workspace_members m \
         JOIN users u ON u.id = m.user_id AND u.org_id = m.org_id \
         WHERE m.org_id = $4 AND m.workspace_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3",
    )
    .bind(ws.id().as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .bind(ws.org_id().as_str())
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Member {
                workspace_id: WorkspaceId::from_trusted(text(r, "workspace_id")?),
                user_id: UserId::from_trusted(text(r, "user_id")?),
                role: parsed(r, "role", WorkspaceRole::parse)?,
                email: text(r, "email")?,
                name: text(r, "name")?,
                created_at: time(r, "created_at")?,
                updated_at: time(r, "updated_at")?,
            })
        })
        .collect()
}

/// Adds or changes a membership; returns the previous role.
pub async fn set_member(
    c: &mut WriteTx,
    ws: &WorkspaceScope,
    user: &UserId,
    role: WorkspaceRole,
    now: Timestamp,
) -> StoreResult<Option<WorkspaceRole>> {
    let previous = role_of(c, ws, user).await?;
    if previous.is_some() {
        sqlx::query(
            "UPDATE workspace_members SET role = $3, updated_at = $4 WHERE workspace_id = $1 AND user_id = $2 AND org_id = $5",
        )
        .bind(ws.id().as_str())
        .bind(user.as_str())
        .bind(role.as_str())
        .bind(now.millis())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, org_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(ws.id().as_str())
        .bind(user.as_str())
        .bind(ws.org_id().as_str())
        .bind(role.as_str())
        .bind(now.millis())
        .execute(&mut **c)
        .await?;
        adjust(c, ws, Counter::Members, 1).await?;
    }
    Ok(previous)
}

pub async fn remove_member(c: &mut WriteTx, ws: &WorkspaceScope, user: &UserId) -> StoreResult<bool> {
    let res = sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 AND org_id = $3")
        .bind(ws.id().as_str())
        .bind(user.as_str())
        .bind(ws.org_id().as_str())
        .execute(&mut **c)
        .await?;
    if res.rows_affected() == 1 {
        adjust(c, ws, Counter::Members, -1).await?;
    }
    Ok(res.rows_affected() == 1)
}

/// Before a user is deleted: their memberships stop counting.
pub async fn forget_user(c: &mut WriteTx, org: &OrgScope, user: &UserId) -> StoreResult<()> {
    sqlx::query(
        "UPDATE workspaces SET member_count = member_count - 1 WHERE org_id = $1 AND id IN \
         (SELECT workspace_id FROM workspace_members WHERE user_id = $2)",
    )
    .bind(org.as_str())
    .bind(user.as_str())
    .execute(&mut **c)
    .await?;
    sqlx::query("DELETE FROM workspace_members WHERE org_id = $1 AND user_id = $2")
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&mut **c)
        .await?;
    Ok(())
}

/// How many workspaces match the filter (for "1–50 of 1,204").
pub async fn count(c: &mut Conn, org: &OrgScope, f: &ListFilter) -> StoreResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM workspaces w");
    if let Some(user) = &f.member {
        sql.push(" JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ?", [Arg::Text(user.to_string())]);
    }
    sql.push(" WHERE w.org_id = ?", [Arg::Text(org.to_string())]);
    if !f.statuses.is_empty() {
        sql.push_list(" AND w.status IN ", f.statuses.iter().map(|s| Arg::Text(s.as_str().into())));
    }
    if let Some(q) = &f.query {
        sql.push(" AND LOWER(w.name) LIKE ? ESCAPE '\\'", [Arg::Text(like_pattern(q))]);
    }
    let (text, args) = sql.query();
    let row = bind_all(sqlx::query(AssertSqlSafe(text)), args).fetch_one(c).await?;
    Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?)
}
