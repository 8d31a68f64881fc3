//! What members see: their workspaces, a workspace, and the page a suspended
//! workspace shows (with the reason and whom to contact).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use steward_core::ids::WorkspaceId;

use super::organization::layout;
use super::session::{ConsoleSession, Layout};
use super::workspaces::{WsRow, row};
use super::{error_page, format};
use crate::services::workspaces;
use crate::services::{campaigns, content, people};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/w", get(mine)).route("/w/{id}", get(one))
}

#[derive(Template, WebTemplate)]
#[template(path = "my_workspaces.html")]
struct MinePage {
    layout: Layout,
    rows: Vec<WsRow>,
}

/// The workspace switcher: only the caller's own workspaces (never archived).
async fn mine(State(s): State<AppState>, session: ConsoleSession) -> Response {
    let rows = match workspaces::mine(&s.db, &session.ctx()).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    MinePage {
        layout: layout(&s, &session, "Your workspaces", "mine").await,
        rows: rows.iter().map(|w| row(w, &session.org.timezone, 0)).collect(),
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "my_workspace.html")]
struct OnePage {
    layout: Layout,
    w: WsRow,
    role: String,
    campaigns: Vec<(String, &'static str, String)>,
    content: Vec<(String, &'static str)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "suspended.html")]
struct SuspendedPage {
    layout: Layout,
    name: String,
    reason: Option<String>,
    admins: Vec<(String, String)>,
}

async fn one(State(s): State<AppState>, session: ConsoleSession, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<WorkspaceId>() else { return super::not_found_page() };
    let ctx = session.ctx();
    match workspaces::get_with_role(&s.db, &ctx, &id).await {
        Ok((w, role)) => {
            let page = steward_core::pagination::Page { limit: 50, after: None };
            let camps = campaigns::list(&s.db, &ctx, &id, &page).await.map(|r| r.0).unwrap_or_default();
            let items = content::list(&s.db, &ctx, &id, &page).await.map(|r| r.0).unwrap_or_default();
            let role = role.map(|r| r.as_str().to_owned());
            OnePage {
                layout: layout(&s, &session, &w.name, "mine").await,
                role: role
                    .unwrap_or_else(|| if session.is_super_admin() { "Super Admin".into() } else { "member".into() }),
                campaigns: camps
                    .iter()
                    .map(|c| (c.name.clone(), c.status.as_str(), format::int(c.cost_credits)))
                    .collect(),
                content: items.iter().map(|c| (c.title.clone(), c.status.as_str())).collect(),
                w: row(&w, &session.org.timezone, 0),
            }
            .into_response()
        }
        Err(e) if e.code == "workspace_suspended" => {
            let name = workspaces::name_for_member(&s.db, &ctx, &id).await.ok().flatten().unwrap_or_default();
            let reason = e.extensions.get("reason").and_then(|v| v.as_str()).map(str::to_owned);
            let admins = super_admins(&s, &session).await;
            let page = SuspendedPage {
                layout: layout(&s, &session, "Workspace suspended", "mine").await,
                name,
                reason,
                admins,
            };
            (StatusCode::FORBIDDEN, page).into_response()
        }
        Err(e) => error_page(&e),
    }
}

async fn super_admins(s: &AppState, session: &ConsoleSession) -> Vec<(String, String)> {
    people::super_admins(&s.db, &session.ctx())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.name, u.email))
        .collect()
}
