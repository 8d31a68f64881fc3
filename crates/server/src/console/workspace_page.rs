//! Settings → Organization → Workspaces → one workspace: its details,
//! members, campaigns, content and connections, each list with its own pages
//! (`?members=`, `?campaigns=`, `?content=`, `?connections=` hold the cursor
//! of that list; the others stay where they are).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use steward_core::ids::WorkspaceId;
use steward_core::pagination::Page;
use steward_core::people::UserStatus;
use steward_core::permissions::Permission;
use steward_core::workspaces::WorkspaceRole;

use super::organization::{ask_admin, layout};
use super::session::{ConsoleSession, Layout, notice_text, urlencode};
use super::workspaces::{WsRow, parse_ws, row};
use super::{dialogs, error_page, format};
use crate::services::workspaces;
use crate::services::{campaigns, connections, content};
use crate::state::AppState;

/// Rows a list of the page shows at once.
const PER_PAGE: i64 = 25;

#[derive(Template, WebTemplate)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    layout: Layout,
    w: WsRow,
    description: Option<String>,
    timezone: String,
    language: String,
    storage: String,
    members: Vec<MemberRow>,
    members_pages: Pager,
    candidates: Vec<(String, String)>,
    roles: Vec<&'static str>,
    campaigns: Vec<(String, &'static str, String, bool)>,
    campaigns_pages: Pager,
    content: Vec<(String, &'static str, String)>,
    content_pages: Pager,
    connections: Vec<(&'static str, String, &'static str)>,
    connections_pages: Pager,
    error: Option<String>,
}

struct MemberRow {
    user_id: String,
    name: String,
    email: String,
    role: &'static str,
}

/// Where each list of the page starts.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct Lists {
    notice: Option<String>,
    members: Option<String>,
    campaigns: Option<String>,
    content: Option<String>,
    connections: Option<String>,
}

/// Links to a list's next and first pages, keeping the other lists' places.
#[derive(Debug, Default)]
struct Pager {
    next: Option<String>,
    first: Option<String>,
}

impl Lists {
    fn page(cursor: &Option<String>) -> Page {
        // A cursor that doesn't decode (edited by hand) starts the list over.
        Page::parse(Some(PER_PAGE), cursor.as_deref()).unwrap_or(Page { limit: PER_PAGE as u32, after: None })
    }

    /// The query of this page with `list` at `cursor` (`None`: its first page).
    fn with(&self, list: &str, cursor: Option<&str>) -> String {
        let places = [
            ("members", &self.members),
            ("campaigns", &self.campaigns),
            ("content", &self.content),
            ("connections", &self.connections),
        ];
        let parts: Vec<String> = places
            .iter()
            .filter_map(|(name, at)| {
                let at = if *name == list { cursor } else { at.as_deref() };
                at.map(|c| format!("{name}={}", urlencode(c)))
            })
            .collect();
        format!("?{}#{list}", parts.join("&"))
    }

    fn pager(&self, list: &str, at: &Option<String>, next: Option<String>) -> Pager {
        Pager { next: next.map(|c| self.with(list, Some(&c))), first: at.as_ref().map(|_| self.with(list, None)) }
    }
}

pub(super) async fn show(
    State(s): State<AppState>,
    session: ConsoleSession,
    Path(id): Path<String>,
    Query(lists): Query<Lists>,
) -> Response {
    let id = match parse_ws(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let notice = notice_text(lists.notice.as_deref());
    render(&s, &session, &id, None, None, notice, &lists).await
}

/// The page after a refused change: its first pages, with the problem.
pub(super) async fn page(
    s: &AppState,
    session: &ConsoleSession,
    id: &WorkspaceId,
    error: Option<String>,
    status: Option<StatusCode>,
) -> Response {
    render(s, session, id, error, status, None, &Lists::default()).await
}

async fn render(
    s: &AppState,
    session: &ConsoleSession,
    id: &WorkspaceId,
    error: Option<String>,
    status: Option<StatusCode>,
    notice: Option<String>,
    lists: &Lists,
) -> Response {
    if !session.can(Permission::WorkspacesRead) {
        return ask_admin(s, session).await;
    }
    let ctx = session.ctx();
    let w = match workspaces::get(&s.db, &ctx, id).await {
        Ok(w) => w,
        Err(e) => return error_page(&e),
    };
    let (members, members_next) =
        workspaces::members(&s.db, &ctx, id, &Lists::page(&lists.members)).await.unwrap_or_default();
    let (camps, camps_next) =
        campaigns::list(&s.db, &ctx, id, &Lists::page(&lists.campaigns)).await.unwrap_or_default();
    let (items, items_next) = content::list(&s.db, &ctx, id, &Lists::page(&lists.content)).await.unwrap_or_default();
    let (conns, conns_next) =
        connections::list(&s.db, &ctx, id, &Lists::page(&lists.connections)).await.unwrap_or_default();
    let member_ids = all_member_ids(s, session, id).await;
    let everyone = crate::services::people::list_all(&s.db, &ctx).await.unwrap_or_default();
    let tz = session.org.timezone.clone();
    let active = workspaces::active_campaign_counts(&s.db, &ctx, std::slice::from_ref(id)).await.unwrap_or_default();
    let ws_row = row(&w, &tz, active.get(id.as_str()).copied().unwrap_or(0));
    let removals = members.iter().map(|m| dialogs::remove_member(w.id.as_str(), &w.name, m.user_id.as_str(), &m.name));
    let page = WorkspacePage {
        layout: layout(s, session, &w.name, "workspaces")
            .await
            .with_notice(notice)
            .with_confirms(dialogs::workspace(&ws_row))
            .with_confirms(removals),
        description: w.description.clone(),
        timezone: w.timezone.clone(),
        language: w.default_language.clone(),
        storage: format::bytes(w.storage_bytes),
        candidates: everyone
            .iter()
            .filter(|u| u.status != UserStatus::Deactivated && !member_ids.contains(&u.id.to_string()))
            .map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.email)))
            .collect(),
        members: members
            .iter()
            .map(|m| MemberRow {
                user_id: m.user_id.to_string(),
                name: m.name.clone(),
                email: m.email.clone(),
                role: m.role.as_str(),
            })
            .collect(),
        members_pages: lists.pager("members", &lists.members, members_next),
        roles: WorkspaceRole::ALL.iter().map(|r| r.as_str()).collect(),
        campaigns: camps
            .iter()
            .map(|c| (c.name.clone(), c.status.as_str(), format::int(c.cost_credits), c.paused_by.is_some()))
            .collect(),
        campaigns_pages: lists.pager("campaigns", &lists.campaigns, camps_next),
        content: items
            .iter()
            .map(|c| {
                (c.title.clone(), c.status.as_str(), c.published_at.map(|t| format::date(t, &tz).0).unwrap_or_default())
            })
            .collect(),
        content_pages: lists.pager("content", &lists.content, items_next),
        connections: conns.iter().map(|c| (c.platform.as_str(), c.account_name.clone(), c.status.as_str())).collect(),
        connections_pages: lists.pager("connections", &lists.connections, conns_next),
        w: ws_row,
        error,
    };
    (status.unwrap_or(StatusCode::OK), page).into_response()
}

/// Everyone in the workspace, every page: who "Add member" should not offer.
async fn all_member_ids(s: &AppState, session: &ConsoleSession, id: &WorkspaceId) -> Vec<String> {
    let mut page = Page { limit: 200, after: None };
    let mut ids = Vec::new();
    loop {
        let Ok((rows, next)) = workspaces::members(&s.db, &session.ctx(), id, &page).await else { return ids };
        ids.extend(rows.iter().map(|m| m.user_id.to_string()));
        match next.and_then(|c| Page::parse(Some(200), Some(&c)).ok()) {
            Some(p) => page = p,
            None => return ids,
        }
    }
}
